//! The import manifest: which file holds each table, how to read it and which column holds
//! each document field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::{ImportCode, ImportDiagnostic, Location};

/// The format tag of a manifest.
pub const MANIFEST_FORMAT: &str = "tarif-import/1";

/// The tables a manifest may name, in the order they are read.
pub const TABLES: [&str; 8] = [
    "categories",
    "products",
    "price_lists",
    "prices",
    "segments",
    "accounts",
    "account_prices",
    "stock",
];

/// A parsed import manifest, its relative paths resolved against `base`.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub(crate) name: String,
    pub(crate) base: PathBuf,
    pub(crate) tables: BTreeMap<String, TableSpec>,
    pub(crate) document: Option<DocumentPart>,
}

/// What stays JSON: `settings`, `currencies`, `contracts`, inline or in a file.
#[derive(Debug, Clone)]
pub(crate) enum DocumentPart {
    Inline(Box<RawValue>),
    File(String),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    format: String,
    #[serde(default)]
    tables: BTreeMap<String, TableSpec>,
    document: Option<Box<RawValue>>,
}

/// How to read one table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TableSpec {
    pub file: Option<String>,
    pub format: Option<FileFormat>,
    #[serde(default)]
    pub csv: CsvOptions,
    /// Document field ← column name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Separator of multi-valued cells.
    pub separator: Option<String>,
    /// Product attributes: attribute name ← column (and type).
    #[serde(default)]
    pub attrs: BTreeMap<String, AttrSpec>,
    /// Variant axes: axis name ← column.
    #[serde(default)]
    pub axes: BTreeMap<String, String>,
    /// `account_prices`: the id of an account's net list is this prefix and the account id.
    pub list_prefix: Option<String>,
}

/// `csv` or `parquet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FileFormat {
    Csv,
    Parquet,
}

/// How a CSV file is written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct CsvOptions {
    pub delimiter: String,
    pub quote: String,
    pub header: bool,
    pub decimal_comma: bool,
    pub encoding: String,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: ",".into(),
            quote: "\"".into(),
            header: true,
            decimal_comma: false,
            encoding: "utf-8".into(),
        }
    }
}

/// A product attribute column: a column name (a string attribute) or `{column, type}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum AttrSpec {
    Column(String),
    Typed {
        column: String,
        #[serde(rename = "type", default)]
        kind: AttrKind,
    },
}

impl AttrSpec {
    pub fn column(&self) -> &str {
        match self {
            AttrSpec::Column(c) | AttrSpec::Typed { column: c, .. } => c,
        }
    }

    pub fn kind(&self) -> AttrKind {
        match self {
            AttrSpec::Column(_) => AttrKind::String,
            AttrSpec::Typed { kind, .. } => *kind,
        }
    }
}

/// How an attribute cell becomes a JSON value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AttrKind {
    #[default]
    String,
    Number,
    Boolean,
    List,
}

impl Manifest {
    /// Reads a manifest file; its relative paths are relative to its directory.
    ///
    /// ```
    /// let err = tarif::import::Manifest::from_path("no/such/manifest.json").unwrap_err();
    /// assert_eq!(err.diagnostics[0].code.code(), "IMPORT_IO");
    /// ```
    pub fn from_path(path: impl AsRef<Path>) -> Result<Manifest, super::ImportError> {
        let path = path.as_ref();
        // Tables are named as the manifest writes them, relative to it: so is the manifest.
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(path).map_err(|e| {
            super::ImportError::new(vec![ImportDiagnostic::at(
                ImportCode::Io,
                Location {
                    file: name.clone(),
                    row: None,
                    column: None,
                },
                format!("cannot read the manifest: {e}"),
            )])
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Manifest::from_json(&text, &name, base)
    }

    /// Parses a manifest given as text; `name` names it in diagnostics and relative paths are
    /// relative to `base`.
    ///
    /// ```
    /// use tarif::import::Manifest;
    /// let m = Manifest::from_json(
    ///     r#"{"format": "tarif-import/1", "tables": {"products": {"file": "p.csv"}}}"#,
    ///     "manifest.json",
    ///     ".",
    /// ).unwrap();
    /// assert_eq!(m.tables().collect::<Vec<_>>(), ["products"]);
    /// let err = Manifest::from_json(r#"{"format": "tarif-import/1", "tables": {"orders": {}}}"#, "m", ".")
    ///     .unwrap_err();
    /// assert_eq!(err.diagnostics[0].code.code(), "IMPORT_MANIFEST");
    /// ```
    pub fn from_json(
        text: &str,
        name: &str,
        base: impl Into<PathBuf>,
    ) -> Result<Manifest, super::ImportError> {
        let here = |path: String| Location {
            file: name.to_string(),
            row: None,
            column: (!path.is_empty() && path != ".").then_some(path),
        };
        let fail = |path: String, message: String| {
            super::ImportError::new(vec![ImportDiagnostic::at(
                ImportCode::Manifest,
                here(path),
                message,
            )])
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let raw: RawManifest = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| fail(e.path().to_string(), e.into_inner().to_string()))?;
        if raw.format != MANIFEST_FORMAT {
            return Err(fail(
                "format".into(),
                format!(
                    "unknown manifest format `{}`: expected `{MANIFEST_FORMAT}`",
                    raw.format
                ),
            ));
        }
        let mut problems = Vec::new();
        for table in raw.tables.keys() {
            if !TABLES.contains(&table.as_str()) {
                problems.push(ImportDiagnostic::at(
                    ImportCode::Manifest,
                    here(format!("tables.{table}")),
                    format!(
                        "unknown table `{table}`: expected one of {}",
                        TABLES.join(", ")
                    ),
                ));
            }
        }
        let document = match raw.document {
            None => None,
            Some(raw) => match serde_json::from_str::<String>(raw.get()) {
                Ok(path) => Some(DocumentPart::File(path)),
                Err(_) => Some(DocumentPart::Inline(raw)),
            },
        };
        if problems.is_empty() {
            Ok(Manifest {
                name: name.to_string(),
                base: base.into(),
                tables: raw.tables,
                document,
            })
        } else {
            Err(super::ImportError::new(problems))
        }
    }

    /// The tables the manifest names.
    pub fn tables(&self) -> impl Iterator<Item = &str> + '_ {
        self.tables.keys().map(String::as_str)
    }

    pub(crate) fn resolve(&self, file: &str) -> PathBuf {
        self.base.join(file)
    }
}
