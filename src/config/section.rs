//! The `section!` macro: one definition per setting (its field, type, default, variable, reader
//! and description), from which come the section's struct, its defaults, its reading of the
//! environment and its rows of the configuration table in the docs.

/// One environment variable, as the docs list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    pub name: &'static str,
    /// The default as people write it (`8000`, `unset`, `http://localhost:PORT`).
    pub default: &'static str,
    pub doc: &'static str,
}

/// `section! { /// doc  Name { /// doc  field: Type = default, "VAR", reader, "shown default"; ... } }`
///
/// A reader is a `fn(&'static str, T) -> Result<T>`: the variable's name and the value so far
/// (the default), giving the value read, or the default when the variable is unset.
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr, $var:literal, $read:path, $shown:literal;
            )+
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Clone, Debug)]
        pub struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )+
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )+ }
            }
        }

        impl $name {
            /// The variables of this section, for the docs.
            pub const VARS: &'static [$crate::config::section::Var] = &[
                $( $crate::config::section::Var {
                    name: $var,
                    default: $shown,
                    doc: concat!($($doc),+),
                }, )+
            ];

            /// Reads each variable of the section over the values it holds.
            pub fn read(&mut self) -> $crate::config::Result<()> {
                $( self.$field = $read($var, self.$field.clone())?; )+
                Ok(())
            }
        }
    };
}

pub(crate) use section;
