//! One error type for the whole crate; messages follow Ruby's where Ruby has one, so the
//! binding can pass them through unchanged.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// NaN or ±Infinity met by an encoder (JSON has no spelling for them).
    NonFinite(f64),
    /// Containers nested deeper than the limit; carries the depth that was refused.
    Nesting(usize),
    /// Malformed JSON text.
    Parse {
        offset: usize,
        message: String,
    },
    /// A body that parses but breaks a decode rule of format.md, or a value the encoder
    /// cannot represent faithfully.
    InvalidRecord(String),
    /// A frame body above `MAX_FRAME_LEN`: readers would take it for a damaged tail.
    FrameTooLarge(usize),
    /// Write to a closed WAL.
    Closed,
    Io(std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NonFinite(v) => {
                // Ruby's spelling of the value, as in JSON::GeneratorError.
                let name = if v.is_nan() {
                    "NaN"
                } else if *v < 0.0 {
                    "-Infinity"
                } else {
                    "Infinity"
                };
                write!(f, "{name} not allowed in JSON")
            }
            Error::Nesting(n) => write!(f, "nesting of {n} is too deep"),
            Error::Parse { offset, message } => {
                write!(f, "JSON parse error at byte {offset}: {message}")
            }
            Error::InvalidRecord(msg) => write!(f, "invalid fact record: {msg}"),
            Error::FrameTooLarge(n) => write!(
                f,
                "frame body of {n} bytes exceeds {}",
                crate::frame::MAX_FRAME_LEN
            ),
            Error::Closed => f.write_str("closed stream"),
            Error::Io(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
