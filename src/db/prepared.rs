//! Statements written out in SQL and prepared once per connection. diesel never caches the
//! UPDATE, upsert or multi-row INSERT statements it builds, so PostgreSQL parsed and planned each
//! of them on every change (bench/mix.sh: a quarter of a millisecond per update). A statement
//! here is its SQL in parts, with one bind between each two, and a marker type of its own, which
//! is the key diesel's statement cache keeps it under.

use std::marker::PhantomData;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::QueryResult;

/// Binds that go between the parts of a statement's SQL, in order.
pub trait Binds {
    /// How many binds: the statement has one more part than this.
    const COUNT: usize;
    fn push<'b>(&'b self, parts: &[&'static str], out: &mut AstPass<'_, 'b, Pg>)
        -> QueryResult<()>;
}

macro_rules! binds {
    ($count:literal; $($ty:ident $value:ident $i:tt),+) => {
        impl<$($ty, $value),+> Binds for ($((PhantomData<$ty>, $value),)+)
        where
            $(Pg: diesel::sql_types::HasSqlType<$ty>, $value: diesel::serialize::ToSql<$ty, Pg>,)+
        {
            const COUNT: usize = $count;
            fn push<'b>(&'b self, parts: &[&'static str], out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
                $(
                    out.push_sql(parts[$i]);
                    out.push_bind_param::<$ty, $value>(&(self.$i).1)?;
                )+
                out.push_sql(parts[$count]);
                Ok(())
            }
        }
    };
}

binds!(1; S1 V1 0);
binds!(2; S1 V1 0, S2 V2 1);
binds!(3; S1 V1 0, S2 V2 1, S3 V3 2);
binds!(4; S1 V1 0, S2 V2 1, S3 V3 2, S4 V4 3);
binds!(5; S1 V1 0, S2 V2 1, S3 V3 2, S4 V4 3, S5 V5 4);
binds!(6; S1 V1 0, S2 V2 1, S3 V3 2, S4 V4 3, S5 V5 4, S6 V6 5);

/// A statement: its SQL in parts (one more than its binds) and the SQL type of what it returns.
pub trait Statement: 'static {
    const PARTS: &'static [&'static str];
    type SqlType;
}

/// Statement `M` with its binds, each `(sql::<SqlType>(), value)`.
pub struct Prepared<M, B> {
    binds: B,
    marker: PhantomData<M>,
}

pub fn prepared<M: Statement, B: Binds>(binds: B) -> Prepared<M, B> {
    debug_assert_eq!(M::PARTS.len(), B::COUNT + 1, "one more part than binds");
    Prepared {
        binds,
        marker: PhantomData,
    }
}

/// The SQL type of a bind.
pub fn sql<T>() -> PhantomData<T> {
    PhantomData
}

impl<M: Statement, B> QueryId for Prepared<M, B> {
    type QueryId = M;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<M: Statement, B: Binds> QueryFragment<Pg> for Prepared<M, B> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.binds.push(M::PARTS, &mut out)
    }
}

impl<M: Statement, B: Binds> diesel::query_builder::Query for Prepared<M, B> {
    type SqlType = M::SqlType;
}
