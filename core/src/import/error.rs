//! What can go wrong while importing tables: every problem at once, each with a stable code and
//! the place a user can open (`prices.csv:18213:price`).

use std::fmt;

use crate::error::{DiagnosticCode, Severity};

/// Stable codes of import diagnostics; a compile diagnostic of the built document keeps its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportCode {
    /// A file could not be read.
    Io,
    /// The manifest is not a valid import manifest.
    Manifest,
    /// A file is not the CSV or Parquet it should be (bad quoting, ragged rows, truncated).
    Format,
    /// A CSV cell is not UTF-8.
    Encoding,
    /// The mapping names a column the table does not have.
    MissingColumn,
    /// The mapping names a document field the table does not have.
    UnknownField,
    /// A money or quantity column of a Parquet or Arrow table holds floats.
    FloatColumn,
    /// A required cell is empty.
    MissingValue,
    /// A cell does not hold what its field needs.
    InvalidValue,
    /// A second row with the same id (or the same tier of one price entry).
    Duplicate,
    /// The rows of one tiered price entry disagree on a field of the entry.
    Conflict,
    /// A row names a price list or account that its table does not define.
    UnknownReference,
    /// A diagnostic of the compiler on the built document.
    Compile(DiagnosticCode),
}

impl ImportCode {
    /// The stable code, as written in docs/spec.md.
    ///
    /// ```
    /// use tarif::import::ImportCode;
    /// assert_eq!(ImportCode::InvalidValue.code(), "IMPORT_INVALID_VALUE");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            ImportCode::Io => "IMPORT_IO",
            ImportCode::Manifest => "IMPORT_MANIFEST",
            ImportCode::Format => "IMPORT_FORMAT",
            ImportCode::Encoding => "IMPORT_ENCODING",
            ImportCode::MissingColumn => "IMPORT_MISSING_COLUMN",
            ImportCode::UnknownField => "IMPORT_UNKNOWN_FIELD",
            ImportCode::FloatColumn => "IMPORT_FLOAT_COLUMN",
            ImportCode::MissingValue => "IMPORT_MISSING_VALUE",
            ImportCode::InvalidValue => "IMPORT_INVALID_VALUE",
            ImportCode::Duplicate => "IMPORT_DUPLICATE",
            ImportCode::Conflict => "IMPORT_CONFLICT",
            ImportCode::UnknownReference => "IMPORT_UNKNOWN_REFERENCE",
            ImportCode::Compile(code) => code.code(),
        }
    }

    /// Whether this code rejects the import: every import code does; a compile code has its
    /// own severity.
    pub fn severity(self) -> Severity {
        match self {
            ImportCode::Compile(code) => code.severity(),
            _ => Severity::Error,
        }
    }
}

/// A place in the imported tables, as a user opens it: the file (or the table's name when it
/// was handed over as Arrow batches), the row numbered as in a spreadsheet (the header is row
/// 1, so the first data row is 2) and the column. Row 1 with a column is the column itself.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The file as the manifest names it, or the table name.
    pub file: String,
    /// Spreadsheet row, `None` for the file as a whole.
    pub row: Option<u64>,
    /// Column name (its 1-based position for a CSV file without header).
    pub column: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(row) = self.row {
            write!(f, ":{row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

/// One problem found while importing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportDiagnostic {
    /// Stable code.
    pub code: ImportCode,
    /// Where in the tables, when the problem comes from a row or a column.
    pub location: Option<Location>,
    /// Path into the built document, for a compile diagnostic (also when it has a location).
    pub path: Option<String>,
    /// Lowercase message naming the offending value in backticks.
    pub message: String,
}

impl ImportDiagnostic {
    pub(crate) fn at(code: ImportCode, location: Location, message: impl Into<String>) -> Self {
        ImportDiagnostic {
            code,
            location: Some(location),
            path: None,
            message: message.into(),
        }
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

impl fmt::Display for ImportDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at ", self.code.code())?;
        match (&self.location, &self.path) {
            (Some(location), _) => write!(f, "{location}")?,
            (None, Some(path)) if !path.is_empty() => f.write_str(path)?,
            (None, _) => f.write_str("(document)")?,
        }
        write!(f, ": {}", self.message)
    }
}

/// A rejected import: every problem found in the tables, or, when the tables were well-formed,
/// every diagnostic of the compiler on the document they make. Nothing is half-loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError {
    /// All diagnostics, errors first.
    pub diagnostics: Vec<ImportDiagnostic>,
}

impl ImportError {
    /// `IMPORT_ERROR` when the tables could not be read into a document, `COMPILE_ERROR` or
    /// `STRICT_WARNINGS` when the document they make was rejected.
    ///
    /// ```
    /// let err = tarif::Engine::import("no/such/manifest.json").unwrap_err();
    /// assert_eq!(err.code(), "IMPORT_ERROR");
    /// assert_eq!(err.diagnostics[0].code.code(), "IMPORT_IO");
    /// ```
    pub fn code(&self) -> &'static str {
        let compiled = |d: &ImportDiagnostic| matches!(d.code, ImportCode::Compile(_));
        if !self.diagnostics.iter().all(compiled) {
            "IMPORT_ERROR"
        } else if self
            .diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
        {
            "COMPILE_ERROR"
        } else {
            "STRICT_WARNINGS"
        }
    }

    pub(crate) fn new(mut diagnostics: Vec<ImportDiagnostic>) -> Self {
        // Stable: within a severity, the order the tables were read in.
        diagnostics.sort_by_key(|d| std::cmp::Reverse(d.severity()));
        ImportError { diagnostics }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        write!(
            f,
            "import rejected: {errors} error(s), {} warning(s)",
            self.diagnostics.len() - errors
        )?;
        for d in &self.diagnostics {
            write!(f, "\n  {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportError {}
