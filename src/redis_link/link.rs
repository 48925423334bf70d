//! What a `Redis` talks to: one server through a `ConnectionManager`, or a cluster through one
//! `ClusterConnection` (it follows MOVED redirections, slot changes and failovers by itself). Both
//! are multiplexed handles, cheap to clone, behind one `ConnectionLike`.

use std::time::Duration;

use futures_util::{Stream, StreamExt};
use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::{ClusterClient, ClusterClientBuilder, ClusterConfig};
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, PushKind, RedisFuture, Value};

use crate::error::BoxError;

/// The command connection of either kind.
#[derive(Clone)]
pub(super) enum Commands {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Commands {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(c) => c.req_packed_command(cmd),
            Self::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Self::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(c) => c.get_db(),
            Self::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the subscriber connections are made.
#[derive(Clone)]
pub(super) enum Target {
    Single(redis::Client),
    Cluster(Vec<String>),
}

impl Target {
    /// The lazily connecting command connection (the service starts while Redis is away).
    /// Must be called inside the Tokio runtime.
    pub(super) fn commands(&self, timeout: Duration) -> Result<Commands, BoxError> {
        match self {
            Self::Single(client) => {
                // One try per command: the breaker, not the manager, decides when to try again.
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(0);
                Ok(Commands::Single(ConnectionManager::new_lazy_with_config(
                    client.clone(),
                    config,
                )?))
            }
            Self::Cluster(nodes) => {
                // A redirection (MOVED, ASK, a failover) is followed within the command's deadline.
                let client = cluster_client(nodes, timeout)?.retries(2).build()?;
                let config = ClusterConfig::new()
                    .set_connection_timeout(timeout)
                    .set_response_timeout(timeout);
                Ok(Commands::Cluster(
                    client.get_pending_async_connection_with_config(config),
                ))
            }
        }
    }

    /// A dedicated subscriber on `channel` (sharded, `SSUBSCRIBE`, on a cluster: the channel
    /// lives on one shard); the payloads, until the connection is lost.
    pub(super) async fn subscribe(
        &self,
        channel: &str,
        timeout: Duration,
    ) -> Result<futures_util::stream::BoxStream<'static, Vec<u8>>, BoxError> {
        match self {
            Self::Single(client) => {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(channel).await?;
                Ok(pubsub
                    .into_on_message()
                    .map(|m| m.get_payload_bytes().to_vec())
                    .boxed())
            }
            Self::Cluster(nodes) => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let client: ClusterClient = cluster_client(nodes, timeout)?
                    .use_protocol(redis::ProtocolVersion::RESP3)
                    .push_sender(tx)
                    .build()?;
                let mut conn = client.get_async_connection().await?;
                conn.ssubscribe(channel).await?;
                Ok(cluster_messages(rx, conn).boxed())
            }
        }
    }

    pub(super) fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

fn cluster_client(nodes: &[String], timeout: Duration) -> redis::RedisResult<ClusterClientBuilder> {
    Ok(ClusterClientBuilder::new(nodes.to_vec())
        .connection_timeout(timeout)
        .response_timeout(timeout))
}

/// The sharded messages pushed to `conn`, ending when a node's connection drops or the server
/// unsubscribes us (the channel's slot moved, its master became a replica): the caller then
/// subscribes again on a fresh view of the cluster and treats the interval as a gap.
fn cluster_messages(
    rx: tokio::sync::mpsc::UnboundedReceiver<redis::PushInfo>,
    conn: ClusterConnection,
) -> impl Stream<Item = Vec<u8>> + Send + 'static {
    futures_util::stream::unfold((rx, conn), |(mut rx, conn)| async move {
        loop {
            let push = rx.recv().await?;
            match push.kind {
                PushKind::SMessage | PushKind::Message => {
                    if let Some(Value::BulkString(payload)) = push.data.into_iter().nth(1) {
                        return Some((payload, (rx, conn)));
                    }
                }
                PushKind::Disconnection | PushKind::SUnsubscribe => return None,
                _ => {}
            }
        }
    })
}

/// The `used_memory` of one `INFO memory` answer.
pub(super) fn used_memory_of(info: &str) -> Option<u64> {
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
}
