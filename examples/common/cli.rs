//! Reading command-line arguments: `--flag VALUE`, `--flag=VALUE`, bare flags and positional
//! arguments, shared by the examples' parsers.

use std::ffi::OsString;

/// One argument: a flag with the value written after its `=`, if any, or a positional argument.
pub struct Argument {
    /// The flag, such as `--addr`, or the whole positional argument.
    pub name: String,
    /// The value written as `--flag=VALUE`.
    pub inline_value: Option<OsString>,
}

/// Reads arguments one at a time and hands out the values of flags that take one.
pub struct ArgumentReader<I> {
    arguments: I,
}

impl<I: Iterator<Item = OsString>> ArgumentReader<I> {
    pub fn new(arguments: impl IntoIterator<Item = OsString, IntoIter = I>) -> Self {
        Self {
            arguments: arguments.into_iter(),
        }
    }

    /// Returns the next argument, splitting `--flag=VALUE`, or `None` after the last one.
    pub fn next_argument(&mut self) -> Result<Option<Argument>, String> {
        let Some(argument) = self.arguments.next() else {
            return Ok(None);
        };
        let argument = argument
            .into_string()
            .map_err(|raw| format!("argument {raw:?} is not valid UTF-8"))?;
        Ok(Some(match argument.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => Argument {
                name: flag.to_owned(),
                inline_value: Some(value.into()),
            },
            _ => Argument {
                name: argument,
                inline_value: None,
            },
        }))
    }

    /// Returns the value of a flag: the text after its `=`, or else the next argument.
    pub fn value(&mut self, flag: &Argument) -> Result<String, String> {
        let value = match flag.inline_value.clone() {
            Some(value) => value,
            None => self
                .arguments
                .next()
                .ok_or_else(|| format!("{} requires a value", flag.name))?,
        };
        value
            .into_string()
            .map_err(|raw| format!("the value {raw:?} of {} is not valid UTF-8", flag.name))
    }
}
