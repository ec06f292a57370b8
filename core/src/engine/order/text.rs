//! Reading what buyers paste or upload into raw order lines (docs/spec.md §12.2): `ref qty`
//! per line, or CSV with `;`, `,` or tab, with or without a header, decimal commas, quoted
//! fields, a byte-order mark. Nothing here knows the catalog: references stay as written.

use rust_decimal::Decimal;

/// How the text was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// One line per order line: the reference, whitespace, the quantity.
    Pasted,
    /// Delimited fields (`;`, `,` or tab).
    Delimited(u8),
}

/// One line of the input, before resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawLine {
    /// 1-based line of the input where the line starts.
    pub line: u32,
    pub reference: String,
    /// The quantity as written (empty when absent: one unit).
    pub qty: String,
    pub cost_centre: Option<String>,
    pub ship_to: Option<String>,
}

/// The lines of a text and how they were read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawOrder {
    pub format: LineFormat,
    pub header: bool,
    pub lines: Vec<RawLine>,
}

/// Why a text cannot be read at all (a bad line never fails the text; these do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextError {
    /// The header names no reference column.
    NoReferenceColumn(String),
    /// The delimited text is malformed (an unterminated quote) at this line.
    Malformed(u32),
}

impl std::fmt::Display for TextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextError::NoReferenceColumn(header) => write!(
                f,
                "the header `{header}` names no reference column (`ref`, `reference`, `sku`, `article`, `code`, `produit`…)"
            ),
            TextError::Malformed(line) => write!(f, "unreadable delimited text at line {line}"),
        }
    }
}

/// Which field a header cell names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Reference,
    Quantity,
    CostCentre,
    ShipTo,
}

/// Header names, English and French, after [`header_key`] (accents dropped, lowercase,
/// separators collapsed to one space).
const HEADERS: &[(&str, Column)] = &[
    ("ref", Column::Reference),
    ("reference", Column::Reference),
    ("sku", Column::Reference),
    ("article", Column::Reference),
    ("code", Column::Reference),
    ("code article", Column::Reference),
    ("product", Column::Reference),
    ("produit", Column::Reference),
    ("item", Column::Reference),
    ("item number", Column::Reference),
    ("part number", Column::Reference),
    ("reference article", Column::Reference),
    ("reference produit", Column::Reference),
    ("ean", Column::Reference),
    ("qty", Column::Quantity),
    ("quantity", Column::Quantity),
    ("quantite", Column::Quantity),
    ("qte", Column::Quantity),
    ("qt", Column::Quantity),
    ("nombre", Column::Quantity),
    ("cost centre", Column::CostCentre),
    ("cost center", Column::CostCentre),
    ("centre de cout", Column::CostCentre),
    ("centre de couts", Column::CostCentre),
    ("ship to", Column::ShipTo),
    ("livraison", Column::ShipTo),
    ("adresse de livraison", Column::ShipTo),
    ("delivery address", Column::ShipTo),
];

/// Reads the lines of `text`. Blank lines are skipped; line numbers are those of the input.
pub(crate) fn read(text: &str) -> Result<RawOrder, TextError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Windows and old Mac line ends count as one line each, as editors number them.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let format = sniff(&text);
    let records = match format {
        LineFormat::Pasted => pasted(&text),
        LineFormat::Delimited(delimiter) => delimited(&text, delimiter)?,
    };
    let mut records = records.into_iter().peekable();
    let columns = match records.peek() {
        Some((_, first)) if is_header(first) => {
            let columns: Vec<Option<Column>> =
                first.iter().map(|cell| header_column(cell)).collect();
            if !columns.contains(&Some(Column::Reference)) {
                return Err(TextError::NoReferenceColumn(first.join(", ")));
            }
            records.next();
            Some(columns)
        }
        _ => None,
    };
    let header = columns.is_some();
    let columns = columns.unwrap_or_else(|| vec![Some(Column::Reference), Some(Column::Quantity)]);
    let lines = records
        .map(|(line, fields)| {
            let field = |wanted: Column| {
                columns
                    .iter()
                    .zip(&fields)
                    .find(|(c, _)| **c == Some(wanted))
                    .map(|(_, v)| v.trim().to_string())
            };
            RawLine {
                line,
                reference: field(Column::Reference).unwrap_or_default(),
                qty: field(Column::Quantity).unwrap_or_default(),
                cost_centre: field(Column::CostCentre).filter(|v| !v.is_empty()),
                ship_to: field(Column::ShipTo).filter(|v| !v.is_empty()),
            }
        })
        .collect();
    Ok(RawOrder {
        format,
        header,
        lines,
    })
}

/// The format, decided on the first non-blank record (a quoted field may span lines): a tab or
/// a `;` outside quotes makes it delimited by that character; a comma makes it comma-delimited
/// unless the line reads as `ref qty` with a decimal comma in the quantity (`DR-1 2,5`);
/// otherwise it is pasted `ref qty` lines.
fn sniff(text: &str) -> LineFormat {
    let first = first_record(text.trim_start());
    let unquoted: String = first.split('"').step_by(2).collect();
    if unquoted.contains('\t') {
        return LineFormat::Delimited(b'\t');
    }
    if unquoted.contains(';') {
        return LineFormat::Delimited(b';');
    }
    if unquoted.contains(',') {
        let tokens: Vec<&str> = first.split_whitespace().collect();
        let pasted_with_decimal_comma = match tokens.split_last() {
            Some((last, rest)) => {
                !rest.is_empty()
                    && rest.iter().all(|t| !t.contains(','))
                    && parse_quantity(last).is_some()
            }
            None => false,
        };
        if !pasted_with_decimal_comma {
            return LineFormat::Delimited(b',');
        }
    }
    LineFormat::Pasted
}

/// The text up to the first line break outside double quotes.
fn first_record(text: &str) -> &str {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => return text.get(..i).unwrap_or(text),
            _ => {}
        }
    }
    text
}

/// `ref qty` lines: the last whitespace-separated token is the quantity when there are two or
/// more, and the reference is what precedes it; a lone token is a reference (one unit).
fn pasted(text: &str) -> Vec<(u32, Vec<String>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let l = l.trim();
            let fields = match l.rsplit_once(char::is_whitespace) {
                Some((reference, qty)) => vec![reference.trim().to_string(), qty.to_string()],
                None => vec![l.to_string()],
            };
            (line_number(i), fields)
        })
        .collect()
}

fn delimited(text: &str, delimiter: u8) -> Result<Vec<(u32, Vec<String>)>, TextError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    for record in reader.records() {
        let line = |position: Option<&csv::Position>| {
            position.map_or(0, |p| u32::try_from(p.line()).unwrap_or(u32::MAX))
        };
        let record = record.map_err(|e| TextError::Malformed(line(e.position())))?;
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        records.push((
            line(record.position()),
            record.iter().map(str::to_string).collect(),
        ));
    }
    Ok(records)
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// A first record is a header when no cell of it is a quantity and one names a column.
fn is_header(fields: &[String]) -> bool {
    fields.iter().all(|f| parse_quantity(f).is_none())
        && fields.iter().any(|f| header_column(f).is_some())
}

fn header_column(cell: &str) -> Option<Column> {
    let key = header_key(cell);
    HEADERS
        .iter()
        .find(|(name, _)| *name == key)
        .map(|(_, c)| *c)
}

/// Lowercase, French accents dropped, every run of other characters one space: `Qté.` and
/// `Quantité` and `QTE` meet their entries in [`HEADERS`].
fn header_key(cell: &str) -> String {
    let mut key = String::with_capacity(cell.len());
    for c in cell.trim().chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        };
        if c.is_alphanumeric() {
            key.push(c);
        } else if !key.is_empty() && !key.ends_with(' ') {
            key.push(' ');
        }
    }
    key.trim_end().to_string()
}

/// A quantity as buyers write it: `12`, `12.5`, `12,5` (a comma is always the decimal
/// separator), `1 000` or `1'000` (spaces, no-break spaces and apostrophes between digits group
/// thousands). `None` when it is not a number; a number with both `.` and `,` is ambiguous and
/// not one. The sign is kept: a non-positive quantity is the caller's `INVALID_QUANTITY`.
pub(crate) fn parse_quantity(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.contains('.') && text.contains(',') {
        return None;
    }
    let grouped = |c: char| matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\'');
    let chars: Vec<char> = text.chars().collect();
    let mut plain = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if grouped(c) {
            let between_digits = i > 0
                && chars.get(i - 1).is_some_and(char::is_ascii_digit)
                && chars.get(i + 1).is_some_and(char::is_ascii_digit);
            if !between_digits {
                return None;
            }
        } else if c == ',' {
            plain.push('.');
        } else if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' {
            plain.push(c);
        } else {
            return None;
        }
    }
    plain.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u32, String, String)> {
        read(text)
            .unwrap()
            .lines
            .into_iter()
            .map(|l| (l.line, l.reference, l.qty))
            .collect()
    }

    fn row(line: u32, reference: &str, qty: &str) -> (u32, String, String) {
        (line, reference.to_string(), qty.to_string())
    }

    #[test]
    fn pasted_lines_keep_their_line_numbers() {
        assert_eq!(
            lines("DR-18V-01 3\n\n  CAB 2,5  \nBSH 06 4\nLONE\n"),
            vec![
                row(1, "DR-18V-01", "3"),
                row(3, "CAB", "2,5"),
                row(4, "BSH 06", "4"),
                row(5, "LONE", ""),
            ]
        );
        assert_eq!(read("A 1").unwrap().format, LineFormat::Pasted);
    }

    #[test]
    fn delimiters_are_sniffed_on_the_first_line() {
        assert_eq!(
            read("A;2,5\nB;1").unwrap().format,
            LineFormat::Delimited(b';')
        );
        assert_eq!(
            read("A\t2\nB\t1").unwrap().format,
            LineFormat::Delimited(b'\t')
        );
        assert_eq!(
            read("A,2\nB,1").unwrap().format,
            LineFormat::Delimited(b',')
        );
        assert_eq!(
            read("A, 2\nB, 1").unwrap().format,
            LineFormat::Delimited(b',')
        );
        assert_eq!(read("A 2,5\nB 1").unwrap().format, LineFormat::Pasted);
        assert_eq!(
            lines("A;2,5\r\nB;1\r\n"),
            vec![row(1, "A", "2,5"), row(2, "B", "1")]
        );
    }

    #[test]
    fn headers_in_english_and_french_map_columns() {
        let order = read("\u{feff}Quantité;Référence;Centre de coût\n3;DR-1;ATELIER\n").unwrap();
        assert!(order.header);
        let line = &order.lines[0];
        assert_eq!((line.line, &*line.reference, &*line.qty), (2, "DR-1", "3"));
        assert_eq!(line.cost_centre.as_deref(), Some("ATELIER"));
        assert_eq!(
            lines("SKU,Qty\nA,1\n\"B,2\",\"1,5\"\n"),
            vec![row(2, "A", "1"), row(3, "B,2", "1,5")]
        );
        assert_eq!(
            read("Qté;Désignation\n1;x").unwrap_err(),
            TextError::NoReferenceColumn("Qté, Désignation".into())
        );
    }

    #[test]
    fn quoted_fields_may_span_lines() {
        assert_eq!(
            lines("\"A\nB\";1\nC;2"),
            vec![row(1, "A\nB", "1"), row(3, "C", "2")]
        );
        assert!(read("A;1\n\"B;2\n").is_ok_and(|o| o.lines.len() == 2));
    }

    #[test]
    fn quantities_read_as_buyers_write_them() {
        let q = |s: &str| parse_quantity(s).map(|d| d.to_string());
        assert_eq!(q("12,5"), Some("12.5".into()));
        assert_eq!(q(" 1 000 "), Some("1000".into()));
        assert_eq!(q("1\u{202f}000,25"), Some("1000.25".into()));
        assert_eq!(q("1'000"), Some("1000".into()));
        assert_eq!(q("1.000,5"), None);
        assert_eq!(q("12 pcs"), None);
        assert_eq!(q("1e3"), None);
        assert_eq!(q("-2"), Some("-2".into()));
        assert_eq!(q(""), None);
    }
}
