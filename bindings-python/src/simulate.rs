//! `tarif.simulate` and `Engine.accounts_table`: the core's simulation and account metadata
//! as pyarrow Tables.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Int32Type, Int8Type, UInt64Type};
use arrow_array::{
    Array, ArrayRef, Decimal128Array, DictionaryArray, Int32Array, Int8Array, ListArray,
    RecordBatch, StringArray, UInt64Array,
};
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use tarif::wire::arrow::{amount_column, empty_scale};
use tarif::Simulation;

use crate::batch::{TableLines, Watcher};
use crate::convert::optional_text;
use crate::engine::Engine;
use crate::errors::{guarded, input, Result};
use tarif::wire::InputCode;

/// Prices `lines` under `base` and each scenario; returns (lines, groups) as pyarrow Tables,
/// lines `None` unless `per_line` (then only the core's streaming groups are computed), the
/// groups those of the groupings `by` names (every one when `None`).
#[pyfunction]
#[pyo3(signature = (base, names, engines, lines, at = None, currency = None, progress = None, per_line = true, by = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn simulate_tables<'py>(
    py: Python<'py>,
    base: &Bound<'py, Engine>,
    names: Vec<String>,
    engines: Vec<Bound<'py, Engine>>,
    lines: &Bound<'py, PyAny>,
    at: Option<&Bound<'py, PyAny>>,
    currency: Option<&Bound<'py, PyAny>>,
    progress: Option<Py<PyAny>>,
    per_line: bool,
    by: Option<Vec<String>>,
) -> Result<(Option<Bound<'py, PyAny>>, Bound<'py, PyAny>)> {
    let by = match by {
        Some(names) => names
            .iter()
            .map(|name| grouping_named(name))
            .collect::<Result<Vec<_>>>()?,
        None => tarif::GroupBy::ALL.to_vec(),
    };
    let base = Arc::clone(&base.get().inner);
    let engines: Vec<Arc<tarif::Engine>> =
        engines.iter().map(|e| Arc::clone(&e.get().inner)).collect();
    let table = TableLines::read(&base, lines, at)?;
    let currency = optional_text(currency, "currency")?;
    let mut watcher = Watcher::new(progress, table.qtys.len() * (1 + engines.len()));
    let out = py.detach(|| -> Result<Option<(Option<RecordBatch>, RecordBatch)>> {
        let accounts = table.accounts.view();
        let refs = table.refs.view();
        let scenarios: Vec<(&str, &tarif::Engine)> = names
            .iter()
            .map(String::as_str)
            .zip(engines.iter().map(|e| e.as_ref()))
            .collect();
        let between = |done: usize| watcher.between(done);
        let scale = empty_scale(&base, currency.as_deref());
        let run_names: Vec<&str> = std::iter::once("base")
            .chain(names.iter().map(String::as_str))
            .collect();
        let groups_table = |groups: &[tarif::Group]| {
            groups_batch(groups, &run_names, |values| amount_column(&values, scale))
        };
        if !per_line {
            let groups = guarded(|| {
                base.simulate_groups(
                    &scenarios,
                    &accounts,
                    &refs,
                    &table.qtys,
                    table.at(),
                    currency.as_deref(),
                    &by,
                    between,
                )
            })??;
            let Some(groups) = groups else {
                return Ok(None);
            };
            return Ok(Some((None, groups_table(&groups)?)));
        }
        let sim = guarded(|| {
            base.simulate(
                &scenarios,
                &accounts,
                &refs,
                &table.qtys,
                table.at(),
                currency.as_deref(),
                &by,
                between,
            )
        })??;
        let Some(sim) = sim else {
            return Ok(None);
        };
        Ok(Some((
            Some(line_batch(&sim, &table, scale)?),
            groups_table(&sim.groups)?,
        )))
    })?;
    let Some((lines, groups)) = out else {
        return Err(watcher
            .raised
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("the simulation was interrupted"))
            .into());
    };
    let table = |batch: RecordBatch| -> Result<Bound<'py, PyAny>> {
        let schema = batch.schema();
        Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
    };
    Ok((lines.map(table).transpose()?, table(groups)?))
}

/// The grouping named `name` (`account`, `root`, `segment`, `category`, `brand`, `rule`).
fn grouping_named(name: &str) -> Result<tarif::GroupBy> {
    tarif::GroupBy::parse(name).ok_or_else(|| {
        let names: Vec<&str> = tarif::GroupBy::ALL.iter().map(|b| b.as_str()).collect();
        PyValueError::new_err(format!(
            "unknown grouping `{name}`, expected one of {}",
            names.join(", ")
        ))
        .into()
    })
}

/// `Simulation.by`: the groups of one grouping pivoted by the core ([`tarif::Group::pivot`]),
/// one row per key: the grouping's name, then per scenario `lines_<s>`, `revenue_<s>`,
/// `margin_<s>`, `affected_<s>`, then per scenario after the base `revenue_change_<s>` and
/// `margin_change_<s>`; amounts at the type of the groups' own.
#[pyfunction]
pub(crate) fn pivot_groups<'py>(
    py: Python<'py>,
    groups: &Bound<'py, PyAny>,
    grouping: &str,
    scenarios: Vec<String>,
) -> Result<Bound<'py, PyAny>> {
    let by = grouping_named(grouping)?;
    let read = read_groups(groups, &scenarios)?;
    let rows = tarif::Group::pivot(&read.groups, by, scenarios.len())?;
    let mut fields = vec![Field::new(grouping, DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(
        rows.iter()
            .map(|r| Some(r.key.as_str()))
            .collect::<StringArray>(),
    )];
    let mut push = |name: String, column: ArrayRef| {
        fields.push(Field::new(name, column.data_type().clone(), true));
        columns.push(column);
    };
    for (s, name) in scenarios.iter().enumerate() {
        let group = |row: &tarif::PivotRow| row.groups.get(s).cloned().flatten();
        let count = |f: fn(&tarif::Group) -> u64| -> ArrayRef {
            Arc::new(
                rows.iter()
                    .map(|r| group(r).map(|g| f(&g)))
                    .collect::<UInt64Array>(),
            )
        };
        push(format!("lines_{name}"), count(|g| g.lines));
        push(
            format!("revenue_{name}"),
            read.amounts(rows.iter().map(|r| group(r).map(|g| g.revenue)))?,
        );
        push(
            format!("margin_{name}"),
            read.amounts(rows.iter().map(|r| group(r).map(|g| g.margin)))?,
        );
        push(format!("affected_{name}"), count(|g| g.affected));
    }
    for (s, name) in scenarios.iter().enumerate().skip(1) {
        let change = |pick: fn(&tarif::PivotRow) -> &Vec<Option<tarif::Decimal>>| {
            read.amounts(rows.iter().map(|r| pick(r).get(s - 1).copied().flatten()))
        };
        push(
            format!("revenue_change_{name}"),
            change(|r| &r.revenue_change)?,
        );
        push(
            format!("margin_change_{name}"),
            change(|r| &r.margin_change)?,
        );
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}

/// `tarif.dask.simulate`: the groups of every partition added up by the core
/// ([`tarif::Group::add_up`]), as one groups table of the same columns and types.
#[pyfunction]
pub(crate) fn add_up_groups<'py>(
    py: Python<'py>,
    groups: &Bound<'py, PyAny>,
    scenarios: Vec<String>,
) -> Result<Bound<'py, PyAny>> {
    let read = read_groups(groups, &scenarios)?;
    let groups = tarif::Group::add_up(read.groups.iter().cloned())?;
    let names: Vec<&str> = scenarios.iter().map(String::as_str).collect();
    let batch = groups_batch(&groups, &names, |values| read.amounts(values.into_iter()))?;
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}

/// A groups table read back into the core's groups.
struct ReadGroups {
    groups: Vec<tarif::Group>,
    /// The scale of its amount columns, which the tables made from it keep.
    scale: u32,
}

impl ReadGroups {
    fn amounts(
        &self,
        values: impl Iterator<Item = Option<tarif::Decimal>>,
    ) -> std::result::Result<ArrayRef, ArrowError> {
        let values: Vec<Option<tarif::Decimal>> = values
            .map(|v| {
                v.map(|mut d| {
                    // Sums and differences of values at one scale never need more of it.
                    if d.scale() < self.scale {
                        d.rescale(self.scale);
                    }
                    d
                })
            })
            .collect();
        amount_column(&values, self.scale)
    }
}

/// Reads `by`, `key`, `scenario` (a name among `scenarios`), `lines`, `priced`, `revenue`,
/// `margin` and `affected` from a pyarrow groups table.
fn read_groups(groups: &Bound<'_, PyAny>, scenarios: &[String]) -> Result<ReadGroups> {
    let (batches, _) = Table::from_pyarrow_bound(groups)?.into_inner();
    let mut out = Vec::new();
    let mut scale = 0;
    for batch in batches {
        let column = |name: &str, to: &DataType| -> Result<ArrayRef> {
            let column = batch.column_by_name(name).ok_or_else(|| {
                input(
                    InputCode::InvalidBatch,
                    format!("a groups table has a `{name}` column"),
                )
            })?;
            Ok(arrow_cast::cast(column, to)?)
        };
        let text = |name: &str| -> Result<StringArray> {
            let column = column(name, &DataType::Utf8)?;
            Ok(column.as_string::<i32>().clone())
        };
        let count = |name: &str| -> Result<UInt64Array> {
            Ok(column(name, &DataType::UInt64)?
                .as_primitive::<UInt64Type>()
                .clone())
        };
        let amount = |name: &str| -> Result<(Decimal128Array, u32)> {
            let column = batch.column_by_name(name).ok_or_else(|| {
                input(
                    InputCode::InvalidBatch,
                    format!("a groups table has a `{name}` column"),
                )
            })?;
            match column.data_type() {
                DataType::Decimal128(_, s) => Ok((
                    column.as_primitive::<Decimal128Type>().clone(),
                    u32::try_from(*s).unwrap_or(0),
                )),
                other => Err(input(
                    InputCode::InvalidBatch,
                    format!("`{name}` is a `{other}` column, not exact amounts"),
                )),
            }
        };
        let (by, key, scenario) = (text("by")?, text("key")?, text("scenario")?);
        let (lines, priced, affected) = (count("lines")?, count("priced")?, count("affected")?);
        let ((revenue, revenue_scale), (margin, margin_scale)) =
            (amount("revenue")?, amount("margin")?);
        scale = scale.max(revenue_scale).max(margin_scale);
        let decimal = |m: i128, s: u32| {
            tarif::Decimal::try_from_i128_with_scale(m, s)
                .map_err(|_| tarif::QueryError::Overflow(format!("the amount {m}e-{s}")))
        };
        for row in 0..batch.num_rows() {
            let name = scenario.value(row);
            let Some(index) = scenarios.iter().position(|s| s == name) else {
                return Err(input(
                    InputCode::InvalidBatch,
                    format!("scenario `{name}` is not one of the simulation's"),
                ));
            };
            let Some(group_by) = tarif::GroupBy::parse(by.value(row)) else {
                return Err(input(
                    InputCode::InvalidBatch,
                    format!("`{}` is not a grouping", by.value(row)),
                ));
            };
            out.push(tarif::Group {
                by: group_by,
                key: key.value(row).to_string(),
                scenario: index,
                lines: lines.value(row),
                priced: priced.value(row),
                revenue: decimal(revenue.value(row), revenue_scale)?,
                margin: decimal(margin.value(row), margin_scale)?,
                affected: affected.value(row),
            });
        }
    }
    Ok(ReadGroups { groups: out, scale })
}

/// A column of scenario names, by index into `names`.
fn names_column(names: &[&str], keys: Vec<i8>) -> std::result::Result<ArrayRef, ArrowError> {
    Ok(Arc::new(DictionaryArray::<Int8Type>::try_new(
        Int8Array::from(keys),
        Arc::new(StringArray::from_iter_values(names.iter().copied())),
    )?))
}

/// One row per line and scenario: `scenario`, `row`, the caller's columns, then `status`,
/// `unit_price`, `line_total`, `rule`, `cost`, `margin`, `change`.
fn line_batch(
    sim: &Simulation<'_>,
    table: &TableLines,
    scale: u32,
) -> std::result::Result<RecordBatch, ArrowError> {
    let rows = table.qtys.len();
    let runs = sim.runs.len();
    let names: Vec<&str> = sim.runs.iter().map(|r| r.name.as_str()).collect();
    let keys = (0..runs)
        .flat_map(|run| std::iter::repeat_n(i8::try_from(run).unwrap_or(i8::MAX), rows))
        .collect();
    let row: UInt64Array = (0..runs).flat_map(|_| 0..rows as u64).collect();
    let ok = |run: &tarif::ScenarioRun<'_>, r: usize| {
        run.result.status.get(r) == Some(&tarif::Status::Ok)
    };
    let amounts = |pick: &dyn Fn(&tarif::ScenarioRun<'_>, usize) -> Option<tarif::Decimal>| {
        let values: Vec<Option<tarif::Decimal>> = sim
            .runs
            .iter()
            .flat_map(|run| (0..rows).map(move |r| (run, r)))
            .map(|(run, r)| pick(run, r))
            .collect();
        amount_column(&values, scale)
    };
    let status: StringArray = sim
        .runs
        .iter()
        .flat_map(|run| run.result.status.iter().map(|s| s.code()))
        .map(Some)
        .collect();
    // Rules repeat over millions of lines: each is written once, in a dictionary.
    let mut rule_ids: ahash::AHashMap<tarif::RuleRef<'_>, i32> = ahash::AHashMap::new();
    let mut rule_names: Vec<String> = Vec::new();
    let rule_keys: Int32Array = sim
        .runs
        .iter()
        .flat_map(|run| run.detail.rule.iter())
        .map(|rule| {
            rule.map(|r| {
                *rule_ids.entry(r).or_insert_with(|| {
                    rule_names.push(r.to_string());
                    i32::try_from(rule_names.len() - 1).unwrap_or(i32::MAX)
                })
            })
        })
        .collect();
    let rule = DictionaryArray::<Int32Type>::try_new(
        rule_keys,
        Arc::new(StringArray::from_iter_values(rule_names)),
    )?;
    let unit = amounts(&|run, r| {
        ok(run, r)
            .then(|| run.result.unit_price.get(r).copied())
            .flatten()
    })?;
    let line = amounts(&|run, r| {
        ok(run, r)
            .then(|| run.result.line_total.get(r).copied())
            .flatten()
    })?;
    let cost = amounts(&|run, r| run.detail.cost.get(r).copied().flatten())?;
    let margin = amounts(&|run, r| run.margin.get(r).copied().flatten())?;
    let change = amounts(&|run, r| run.change.get(r).copied().flatten())?;
    let (mut fields, mut columns) = (
        vec![
            Field::new(
                "scenario",
                DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
                false,
            ),
            Field::new("row", DataType::UInt64, false),
        ],
        vec![names_column(&names, keys)?, Arc::new(row) as ArrayRef],
    );
    let (kept_fields, kept) = table.repeated(runs)?;
    fields.extend(
        kept_fields
            .into_iter()
            .filter(|f| !matches!(f.name().as_str(), "scenario" | "row")),
    );
    let kept_names: Vec<String> = table
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    columns.extend(
        kept.into_iter()
            .zip(&kept_names)
            .filter(|(_, n)| !matches!(n.as_str(), "scenario" | "row"))
            .map(|(c, _)| c),
    );
    for (name, column) in [
        ("status", Arc::new(status) as ArrayRef),
        ("unit_price", unit),
        ("line_total", line),
        ("rule", Arc::new(rule)),
        ("cost", cost),
        ("margin", margin),
        ("change", change),
    ] {
        let name = if kept_names.iter().any(|k| k == name) {
            format!("tarif_{name}")
        } else {
            name.to_string()
        };
        fields.push(Field::new(name, column.data_type().clone(), true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}

/// The groups table of `groups` (`by`, `key`, `scenario`, `lines`, `priced`, `revenue`,
/// `margin`, `affected`), their amounts written by `amounts`.
fn groups_batch(
    groups: &[tarif::Group],
    names: &[&str],
    amounts: impl Fn(Vec<Option<tarif::Decimal>>) -> std::result::Result<ArrayRef, ArrowError>,
) -> std::result::Result<RecordBatch, ArrowError> {
    let by: StringArray = groups.iter().map(|g| Some(g.by.as_str())).collect();
    let key: StringArray = groups.iter().map(|g| Some(g.key.as_str())).collect();
    let scenario = names_column(
        names,
        groups
            .iter()
            .map(|g| i8::try_from(g.scenario).unwrap_or(i8::MAX))
            .collect(),
    )?;
    let count = |f: fn(&tarif::Group) -> u64| -> ArrayRef {
        Arc::new(groups.iter().map(|g| Some(f(g))).collect::<UInt64Array>())
    };
    let revenue = amounts(groups.iter().map(|g| Some(g.revenue)).collect())?;
    let margin = amounts(groups.iter().map(|g| Some(g.margin)).collect())?;
    let schema = Schema::new(vec![
        Field::new("by", DataType::Utf8, false),
        Field::new("key", DataType::Utf8, false),
        Field::new("scenario", scenario.data_type().clone(), false),
        Field::new("lines", DataType::UInt64, false),
        Field::new("priced", DataType::UInt64, false),
        Field::new("revenue", revenue.data_type().clone(), false),
        Field::new("margin", margin.data_type().clone(), false),
        Field::new("affected", DataType::UInt64, false),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(by),
            Arc::new(key),
            scenario,
            count(|g| g.lines),
            count(|g| g.priced),
            revenue,
            margin,
            count(|g| g.affected),
        ],
    )
}

/// Every account with its parent, root and segments, as a pyarrow Table.
pub(crate) fn accounts_table<'py>(
    py: Python<'py>,
    engine: &tarif::Engine,
) -> Result<Bound<'py, PyAny>> {
    let infos: Vec<tarif::AccountInfo<'_>> = engine.account_infos().collect();
    let id: StringArray = infos.iter().map(|a| Some(a.id)).collect();
    let parent: StringArray = infos.iter().map(|a| a.parent).collect();
    let root: StringArray = infos.iter().map(|a| Some(a.root)).collect();
    let segments = segment_lists(&infos);
    let schema = Schema::new(vec![
        Field::new("account", DataType::Utf8, false),
        Field::new("parent", DataType::Utf8, true),
        Field::new("root", DataType::Utf8, false),
        Field::new("segments", segments.data_type().clone(), false),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(id),
            Arc::new(parent),
            Arc::new(root),
            Arc::new(segments),
        ],
    )?;
    let schema = batch.schema();
    Ok(Table::try_new(vec![batch], schema)?.into_pyarrow(py)?)
}

/// The `segments` column: a list of strings per account.
fn segment_lists(infos: &[tarif::AccountInfo<'_>]) -> ListArray {
    let mut builder = ListBuilder::new(StringBuilder::new());
    for info in infos {
        for segment in &info.segments {
            builder.values().append_value(segment);
        }
        builder.append(true);
    }
    builder.finish()
}
