//! What can go wrong while importing tables: every problem at once, each with a stable code and
//! the place a user can open (`prices.csv:18213:price`).

use std::fmt;

use crate::error::{rejection_code, write_diagnostic, write_rejection, DiagnosticCode, Severity};

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
        let place: Option<&dyn fmt::Display> = match (&self.location, &self.path) {
            (Some(location), _) => Some(location),
            (None, Some(path)) if !path.is_empty() => Some(path),
            (None, _) => None,
        };
        write_diagnostic(f, self.code.code(), place, &self.message)
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
        if self.diagnostics.iter().all(compiled) {
            rejection_code(self.diagnostics.iter().map(ImportDiagnostic::severity))
        } else {
            "IMPORT_ERROR"
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
        write_rejection(f, "import", &self.diagnostics, ImportDiagnostic::severity)
    }
}

impl std::error::Error for ImportError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{CompileError, Diagnostic};

    #[test]
    fn an_import_and_a_document_are_rejected_in_the_same_words() {
        let compile = CompileError {
            diagnostics: vec![
                Diagnostic {
                    code: DiagnosticCode::InvalidDecimal,
                    path: "products[0].cost".into(),
                    message: "`x` is not a decimal".into(),
                    ids: Vec::new(),
                },
                Diagnostic {
                    code: DiagnosticCode::Expired,
                    path: String::new(),
                    message: "expired".into(),
                    ids: Vec::new(),
                },
            ],
        };
        assert_eq!(
            compile.to_string(),
            "document rejected: 1 error(s), 1 warning(s)\n  INVALID_DECIMAL at products[0].cost: `x` is not a decimal\n  EXPIRED at (document): expired"
        );
        let located = Location {
            file: "products.csv".into(),
            row: Some(3),
            column: Some("COST".into()),
        };
        let import = ImportError::new(vec![
            ImportDiagnostic {
                code: ImportCode::Compile(DiagnosticCode::Expired),
                location: None,
                path: None,
                message: "expired".into(),
            },
            ImportDiagnostic {
                code: ImportCode::Compile(DiagnosticCode::InvalidDecimal),
                location: Some(located),
                path: Some("products[0].cost".into()),
                message: "`x` is not a decimal".into(),
            },
        ]);
        assert_eq!(
            import.to_string(),
            "import rejected: 1 error(s), 1 warning(s)\n  INVALID_DECIMAL at products.csv:3:COST: `x` is not a decimal\n  EXPIRED at (document): expired"
        );
        assert_eq!(
            (compile.code(), import.code()),
            ("COMPILE_ERROR", "COMPILE_ERROR")
        );
        let warnings = ImportError::new(vec![ImportDiagnostic {
            code: ImportCode::Compile(DiagnosticCode::Expired),
            location: None,
            path: Some("contracts[0]".into()),
            message: "expired".into(),
        }]);
        assert_eq!(warnings.code(), "STRICT_WARNINGS");
        assert_eq!(
            warnings.diagnostics[0].to_string(),
            "EXPIRED at contracts[0]: expired"
        );
    }
}
