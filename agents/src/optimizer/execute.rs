//! Executing an approved recommendation: the purchase order or transfer it becomes in Fluxion,
//! numbered from the recommendation's id so that writing it twice changes nothing.

use chrono::{Duration, NaiveDate};
use fluxion_domain::{
    OrderLine, OrderNumber, ParseError, PurchaseOrder, Quantity, Recommendation, RecommendedAction, Supplier, Transfer,
};
use fluxion_memory::ChangeSet;
use uuid::Uuid;

/// The number of what recommendation `id` becomes: `FX-OC-…` for purchase orders (orden de compra),
/// `FX-TR-…` for transfers.
pub fn execution_number(id: Uuid, r: &Recommendation) -> String {
    let short = id.simple().to_string()[..10].to_uppercase();
    match r.action {
        RecommendedAction::Order { .. } => format!("FX-OC-{short}"),
        RecommendedAction::Transfer { .. } => format!("FX-TR-{short}"),
    }
}

/// Why a recommendation cannot be executed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecuteError {
    /// An order whose product has no supplier on file.
    #[error("the product has no supplier on file")]
    NoSupplier,
    /// The supplier is not in the catalog.
    #[error("supplier {0} is not in the catalog")]
    UnknownSupplier(String),
    /// The values do not make an order (no units …).
    #[error(transparent)]
    Invalid(#[from] ParseError),
}

/// The change set that executes recommendation `id`, decided on `today`: a purchase order expected
/// after the supplier's mean lead time, or a transfer arriving the next day.
pub fn execution(
    id: Uuid,
    r: &Recommendation,
    suppliers: &[Supplier],
    today: NaiveDate,
) -> Result<(String, ChangeSet), ExecuteError> {
    let number = execution_number(id, r);
    let lines = vec![OrderLine { product: r.product.clone(), quantity: Quantity::new(r.units.max(0.0).ceil())? }];
    let changes = match &r.action {
        RecommendedAction::Order { supplier } => {
            let code = supplier.as_ref().ok_or(ExecuteError::NoSupplier)?;
            let supplier = suppliers
                .iter()
                .find(|s| &s.code == code)
                .ok_or_else(|| ExecuteError::UnknownSupplier(code.to_string()))?;
            let lead_days = supplier.lead_time.mean_days().ceil().clamp(0.0, 365.0) as i64;
            let order = PurchaseOrder::new(
                OrderNumber::parse(&number)?,
                code.clone(),
                r.store.clone(),
                today,
                today + Duration::days(lead_days),
                lines,
            )?;
            ChangeSet { purchase_orders: vec![order], ..ChangeSet::default() }
        }
        RecommendedAction::Transfer { from } => {
            let transfer = Transfer::new(
                OrderNumber::parse(&number)?,
                from.clone(),
                r.store.clone(),
                today,
                today + Duration::days(1),
                lines,
            )?;
            ChangeSet { transfers: vec![transfer], ..ChangeSet::default() }
        }
    };
    Ok((number, changes))
}
