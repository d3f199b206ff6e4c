//! Column types and typed values: a cell's bytes as the catalog's column type says.

use crate::time::{Precision, Timestamp};

/// JET_COLTYP: the column types of ESE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Nil,
    Bit,
    UnsignedByte,
    Short,
    Long,
    Currency,
    IeeeSingle,
    IeeeDouble,
    /// An OLE automation date (a double of days since 1899-12-30).
    DateTime,
    Binary,
    Text,
    LongBinary,
    LongText,
    Slv,
    UnsignedLong,
    LongLong,
    Guid,
    UnsignedShort,
    Unknown(u32),
}

impl ColumnType {
    pub fn from_raw(v: u32) -> ColumnType {
        use ColumnType::*;
        match v {
            0 => Nil,
            1 => Bit,
            2 => UnsignedByte,
            3 => Short,
            4 => Long,
            5 => Currency,
            6 => IeeeSingle,
            7 => IeeeDouble,
            8 => DateTime,
            9 => Binary,
            10 => Text,
            11 => LongBinary,
            12 => LongText,
            13 => Slv,
            14 => UnsignedLong,
            15 => LongLong,
            16 => Guid,
            17 => UnsignedShort,
            o => Unknown(o),
        }
    }

    /// Bytes of a value of a fixed-size type (None for the variable-size types).
    pub fn fixed_size(self) -> Option<usize> {
        use ColumnType::*;
        match self {
            Bit | UnsignedByte => Some(1),
            Short | UnsignedShort => Some(2),
            Long | UnsignedLong | IeeeSingle => Some(4),
            Currency | IeeeDouble | DateTime | LongLong => Some(8),
            Guid => Some(16),
            _ => None,
        }
    }

    pub fn is_text(self) -> bool {
        matches!(self, ColumnType::Text | ColumnType::LongText)
    }
}

/// A cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bit(bool),
    U8(u8),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    /// LongLong and Currency.
    I64(i64),
    F32(f32),
    F64(f64),
    /// The raw OLE automation date (see [`ole_date_to_timestamp`]).
    DateTime(f64),
    Guid([u8; 16]),
    Binary(Vec<u8>),
    Text(String),
    /// A multi-valued tagged column's values, in order.
    Multi(Vec<Value>),
}

/// Codepage of UTF-16LE text columns.
pub const CODEPAGE_UTF16: u32 = 1200;

/// A value of type `ty` from its bytes; `None` when the size is wrong for the type.
pub fn decode(ty: ColumnType, codepage: u32, b: &[u8]) -> Option<Value> {
    use ColumnType::*;
    let arr = |n: usize| (b.len() == n).then_some(b);
    Some(match ty {
        Bit => Value::Bit(arr(1)?[0] != 0),
        UnsignedByte => Value::U8(arr(1)?[0]),
        Short => Value::I16(i16::from_le_bytes(arr(2)?.try_into().ok()?)),
        UnsignedShort => Value::U16(u16::from_le_bytes(arr(2)?.try_into().ok()?)),
        Long => Value::I32(i32::from_le_bytes(arr(4)?.try_into().ok()?)),
        UnsignedLong => Value::U32(u32::from_le_bytes(arr(4)?.try_into().ok()?)),
        Currency | LongLong => Value::I64(i64::from_le_bytes(arr(8)?.try_into().ok()?)),
        IeeeSingle => Value::F32(f32::from_le_bytes(arr(4)?.try_into().ok()?)),
        IeeeDouble => Value::F64(f64::from_le_bytes(arr(8)?.try_into().ok()?)),
        DateTime => Value::DateTime(f64::from_le_bytes(arr(8)?.try_into().ok()?)),
        Guid => Value::Guid(arr(16)?.try_into().ok()?),
        Text | LongText => Value::Text(text(codepage, b)),
        Binary | LongBinary | Slv | Nil | Unknown(_) => Value::Binary(b.to_vec()),
    })
}

/// Text of a column: UTF-16LE for codepage 1200, else one byte a character (ASCII and
/// Windows-1252 share the printable range; other bytes become their Latin-1 letters).
fn text(codepage: u32, b: &[u8]) -> String {
    if codepage == CODEPAGE_UTF16 {
        crate::bytes::utf16_lossy(b)
    } else {
        b.iter().map(|&c| char::from(c)).collect()
    }
}

/// Days between the OLE epoch (1899-12-30) and the Unix epoch.
const OLE_UNIX_DAYS: f64 = 25_569.0;

/// An OLE automation date as a UTC instant, to the microsecond (a double of days holds
/// no finer time for today's dates). Negative dates count the time of day forward from
/// the day before, as OLE defines them.
pub fn ole_date_to_timestamp(days: f64) -> Option<Timestamp> {
    if !days.is_finite() {
        return None;
    }
    let whole = days.trunc();
    let frac = (days - whole).abs();
    let micros_of_day = (frac * 86_400_000_000.0).round() as i64;
    let total = (whole - OLE_UNIX_DAYS) as i64 * 86_400_000_000 + micros_of_day;
    let secs = total.div_euclid(1_000_000);
    let nanos = (total.rem_euclid(1_000_000) * 1000) as u32;
    Timestamp::from_unix(secs, nanos, Precision::Micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ole_dates() {
        assert_eq!(
            ole_date_to_timestamp(25_569.0).unwrap().to_iso8601(),
            "1970-01-01T00:00:00.000000Z"
        );
        assert_eq!(
            ole_date_to_timestamp(44_597.5).unwrap().to_iso8601(),
            "2022-02-05T12:00:00.000000Z"
        );
        assert!(ole_date_to_timestamp(f64::NAN).is_none());
    }

    #[test]
    fn decode_sizes() {
        assert_eq!(
            decode(ColumnType::Long, 0, &[1, 0, 0, 0]),
            Some(Value::I32(1))
        );
        assert_eq!(decode(ColumnType::Long, 0, &[1, 0]), None);
        assert_eq!(
            decode(ColumnType::Text, 1200, &[b'a', 0]),
            Some(Value::Text("a".into()))
        );
    }
}
