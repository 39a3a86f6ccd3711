//! WhatsApp's durable state on the control file. Claims take the file's write lock
//! (`BEGIN IMMEDIATE`) before reading, so two workers never take the same row.

use super::super::messaging::{
    Contact, ContactRow, InboundMessage, InboundRow, Messaging, Offer, OutboundMessage, OutboundRow, SendOutcome,
    StatusUpdate, next_delivery,
};
use super::super::rows::{self, is_foreign_key_violation, is_unique_violation};
use super::{SqliteStore, StoreError, ts};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use fluxion_domain::TenantId;
use std::collections::HashSet;
use uuid::Uuid;

const OUTBOX_COLUMNS: &str = "id, phone, tenant_id, kind, message, fallback, state, not_before, attempts, wamid, \
                              delivery, error, created_at, updated_at";
const INBOX_COLUMNS: &str = "id, phone, sent_at, received_at, event, attempts, state, outcome";

#[async_trait]
impl Messaging for SqliteStore {
    async fn save_contact(&self, c: &Contact) -> Result<(), StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        // The user must be of the contact's tenant.
        let tenant: Option<Option<String>> = sqlx::query_scalar("SELECT tenant_id FROM users WHERE id = ?")
            .bind(c.user.to_string())
            .fetch_optional(&mut *tx)
            .await?;
        if tenant.flatten().as_deref() != Some(c.tenant.to_string().as_str()) {
            return Err(StoreError::UnknownReference { kind: "user", code: c.user.to_string() });
        }
        sqlx::query("DELETE FROM whatsapp_contacts WHERE user_id = ? AND phone <> ?")
            .bind(c.user.to_string())
            .bind(&c.phone)
            .execute(&mut *tx)
            .await?;
        let stores = serde_json::to_string(&c.stores).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query(
            "INSERT INTO whatsapp_contacts (phone, user_id, tenant_id, stores, alerts, created_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (phone) DO UPDATE SET stores = excluded.stores, alerts = excluded.alerts
             WHERE whatsapp_contacts.user_id = excluded.user_id",
        )
        .bind(&c.phone)
        .bind(c.user.to_string())
        .bind(c.tenant.to_string())
        .bind(stores)
        .bind(c.alerts)
        .bind(ts(c.created_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| contact_error(e, c))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("the number {} belongs to another user", c.phone)));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_contact(&self, tenant: TenantId, user: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM whatsapp_contacts WHERE user_id = ? AND tenant_id = ?")
            .bind(user.to_string())
            .bind(tenant.to_string())
            .execute(&self.control)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn contact(&self, phone: &str) -> Result<Option<Contact>, StoreError> {
        let row: Option<ContactRow> = sqlx::query_as(
            "SELECT phone, user_id, tenant_id, stores, alerts, created_at FROM whatsapp_contacts WHERE phone = ?",
        )
        .bind(phone)
        .fetch_optional(&self.control)
        .await?;
        row.map(Contact::try_from).transpose()
    }

    async fn contacts(&self, tenant: TenantId) -> Result<Vec<Contact>, StoreError> {
        let rows: Vec<ContactRow> = sqlx::query_as(
            "SELECT phone, user_id, tenant_id, stores, alerts, created_at FROM whatsapp_contacts
             WHERE tenant_id = ? ORDER BY phone",
        )
        .bind(tenant.to_string())
        .fetch_all(&self.control)
        .await?;
        rows.into_iter().map(Contact::try_from).collect()
    }

    async fn receive(&self, messages: &[InboundMessage]) -> Result<u32, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let mut new = 0;
        for m in messages {
            let done = sqlx::query(
                "INSERT INTO whatsapp_inbox (id, phone, sent_at, received_at, event) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&m.id)
            .bind(&m.phone)
            .bind(ts(m.sent_at))
            .bind(ts(m.received_at))
            .bind(&m.event)
            .execute(&mut *tx)
            .await?;
            new += u32::try_from(done.rows_affected()).unwrap_or(0);
            sqlx::query(
                "INSERT INTO whatsapp_windows (phone, last_inbound_at) VALUES (?, ?)
                 ON CONFLICT (phone) DO UPDATE SET last_inbound_at = max(last_inbound_at, excluded.last_inbound_at)",
            )
            .bind(&m.phone)
            .bind(ts(m.sent_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn claim_inbound(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        max: u32,
    ) -> Result<Vec<InboundMessage>, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let rows: Vec<InboundRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE whatsapp_inbox SET held_until = ?, attempts = attempts + 1
             WHERE id IN (SELECT id FROM whatsapp_inbox
                          WHERE state = 'pending' AND (held_until IS NULL OR held_until <= ?)
                          ORDER BY received_at, id LIMIT ?)
             RETURNING {INBOX_COLUMNS}"
        )))
        .bind(ts(now + lease))
        .bind(ts(now))
        .bind(i64::from(max))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out: Vec<InboundMessage> = rows.into_iter().map(InboundMessage::from).collect();
        out.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
        Ok(out)
    }

    async fn finish_inbound(&self, id: &str, outcome: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE whatsapp_inbox SET state = 'done', outcome = ?, done_at = ?, held_until = NULL WHERE id = ?",
        )
        .bind(outcome)
        .bind(ts(Utc::now()))
        .bind(id)
        .execute(&self.control)
        .await?;
        Ok(())
    }

    async fn inbound(&self, id: &str) -> Result<Option<(InboundMessage, String, Option<String>)>, StoreError> {
        let row: Option<InboundRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {INBOX_COLUMNS} FROM whatsapp_inbox WHERE id = ?")))
                .bind(id)
                .fetch_optional(&self.control)
                .await?;
        Ok(row.map(|r| {
            let (state, outcome) = (r.state.clone(), r.outcome.clone());
            (InboundMessage::from(r), state, outcome)
        }))
    }

    async fn inbox_pending(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM whatsapp_inbox WHERE state = 'pending'")
            .fetch_one(&self.control)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn last_inbound(&self, phone: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT last_inbound_at FROM whatsapp_windows WHERE phone = ?")
            .bind(phone)
            .fetch_optional(&self.control)
            .await?)
    }

    async fn queue(&self, messages: &[OutboundMessage]) -> Result<u32, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let mut new = 0;
        for m in messages {
            new += insert_outbound(&mut tx, m).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn queue_push(&self, message: &OutboundMessage, alerts: &[Uuid]) -> Result<bool, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        if insert_outbound(&mut tx, message).await? == 0 {
            return Ok(false);
        }
        for a in alerts {
            sqlx::query(
                "INSERT INTO whatsapp_pushes (phone, alert_id, intent_id, pushed_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (phone, alert_id) DO NOTHING",
            )
            .bind(&message.phone)
            .bind(a.to_string())
            .bind(&message.id)
            .bind(ts(message.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn pushed(&self, phone: &str, alerts: &[Uuid]) -> Result<HashSet<Uuid>, StoreError> {
        // Only the asked-for alerts: a number's push history only grows.
        let wanted = rows::to_json("alert ids", &alerts.iter().map(Uuid::to_string).collect::<Vec<_>>())?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT alert_id FROM whatsapp_pushes WHERE phone = ? AND alert_id IN (SELECT value FROM json_each(?))",
        )
        .bind(phone)
        .bind(wanted)
        .fetch_all(&self.control)
        .await?;
        Ok(ids.iter().filter_map(|s| Uuid::parse_str(s).ok()).collect())
    }

    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        max: u32,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let rows: Vec<OutboundRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE whatsapp_outbox SET held_until = ?, attempts = attempts + 1
             WHERE id IN (SELECT id FROM whatsapp_outbox
                          WHERE state IN ('pending', 'uncertain') AND not_before <= ?
                            AND (held_until IS NULL OR held_until <= ?)
                          ORDER BY not_before, created_at, id LIMIT ?)
             RETURNING {OUTBOX_COLUMNS}"
        )))
        .bind(ts(now + lease))
        .bind(ts(now))
        .bind(ts(now))
        .bind(i64::from(max))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut out = rows.into_iter().map(OutboundMessage::try_from).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn finish_outbound(&self, id: &str, outcome: &SendOutcome) -> Result<(), StoreError> {
        let now = ts(Utc::now());
        let q = match outcome {
            SendOutcome::Sent { wamid } => sqlx::query(
                "UPDATE whatsapp_outbox SET state = 'sent', wamid = ?, delivery = coalesce(delivery, 'accepted'),
                 error = NULL, held_until = NULL, updated_at = ? WHERE id = ? AND state IN ('pending', 'uncertain')",
            )
            .bind(wamid)
            .bind(now)
            .bind(id),
            SendOutcome::Retry { at, error, uncertain } => sqlx::query(
                "UPDATE whatsapp_outbox SET state = ?, not_before = ?, error = ?, held_until = NULL, updated_at = ?
                 WHERE id = ? AND state IN ('pending', 'uncertain')",
            )
            .bind(if *uncertain { "uncertain" } else { "pending" })
            .bind(ts(*at))
            .bind(error)
            .bind(now)
            .bind(id),
            SendOutcome::Replace { message } => sqlx::query(
                "UPDATE whatsapp_outbox SET state = 'pending', message = ?, fallback = NULL, wamid = NULL, delivery = NULL, held_until = NULL,
                 updated_at = ? WHERE id = ? AND state IN ('pending', 'uncertain', 'sent')",
            )
            .bind(message)
            .bind(now)
            .bind(id),
            SendOutcome::Failed { error } => sqlx::query(
                "UPDATE whatsapp_outbox SET state = 'failed', error = ?, held_until = NULL, updated_at = ?
                 WHERE id = ? AND state IN ('pending', 'uncertain')",
            )
            .bind(error)
            .bind(now)
            .bind(id),
        };
        q.execute(&self.control).await?;
        Ok(())
    }

    async fn record_status(&self, s: &StatusUpdate) -> Result<Option<OutboundMessage>, StoreError> {
        let mut tx = self.control.begin_with("BEGIN IMMEDIATE").await?;
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE wamid = ?");
        let mut row: Option<OutboundRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(&s.wamid).fetch_optional(&mut *tx).await?;
        if row.is_none()
            && let Some(intent) = &s.intent
        {
            let select = format!("SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE id = ?");
            row = sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(intent).fetch_optional(&mut *tx).await?;
        }
        let Some(row) = row else { return Ok(None) };
        let delivery = next_delivery(row.delivery.as_deref(), &s.status);
        let error = (!s.errors.is_empty()).then(|| format!("status {}: {:?}", s.status, s.errors));
        // A status names a message Meta accepted: an intent whose send timed out is sent after all.
        let state = if matches!(row.state.as_str(), "pending" | "uncertain") { "sent" } else { row.state.as_str() };
        sqlx::query(
            "UPDATE whatsapp_outbox SET delivery = ?, state = ?, wamid = coalesce(wamid, ?),
             error = coalesce(?, error), updated_at = ? WHERE id = ?",
        )
        .bind(&delivery)
        .bind(state)
        .bind(&s.wamid)
        .bind(error)
        .bind(ts(Utc::now()))
        .bind(&row.id)
        .execute(&mut *tx)
        .await?;
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE id = ?");
        let row: OutboundRow = sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(&row.id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(Some(OutboundMessage::try_from(row)?))
    }

    async fn outbound(&self, id: &str) -> Result<Option<OutboundMessage>, StoreError> {
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE id = ?");
        let row: Option<OutboundRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(id).fetch_optional(&self.control).await?;
        row.map(OutboundMessage::try_from).transpose()
    }

    async fn outbound_by_wamid(&self, wamid: &str) -> Result<Option<OutboundMessage>, StoreError> {
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE wamid = ?");
        let row: Option<OutboundRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(select)).bind(wamid).fetch_optional(&self.control).await?;
        row.map(OutboundMessage::try_from).transpose()
    }

    async fn outbox(
        &self,
        phone: &str,
        kind: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let select = format!(
            "SELECT {OUTBOX_COLUMNS} FROM whatsapp_outbox WHERE phone = ? AND (? IS NULL OR kind = ?)
             AND created_at >= ? ORDER BY created_at, id"
        );
        let rows: Vec<OutboundRow> = sqlx::query_as(sqlx::AssertSqlSafe(select))
            .bind(phone)
            .bind(kind)
            .bind(kind)
            .bind(ts(since))
            .fetch_all(&self.control)
            .await?;
        rows.into_iter().map(OutboundMessage::try_from).collect()
    }

    async fn outbox_pending(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM whatsapp_outbox WHERE state IN ('pending', 'uncertain')")
            .fetch_one(&self.control)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_offer(&self, phone: &str, offer: &Offer) -> Result<(), StoreError> {
        sqlx::query("UPDATE whatsapp_contacts SET offer_id = ?, offer_expires_at = ? WHERE phone = ?")
            .bind(offer.recommendation.to_string())
            .bind(ts(offer.expires_at))
            .bind(phone)
            .execute(&self.control)
            .await?;
        Ok(())
    }

    async fn clear_offer(&self, phone: &str, recommendation: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE whatsapp_contacts SET offer_id = NULL, offer_expires_at = NULL WHERE phone = ? AND offer_id = ?",
        )
        .bind(phone)
        .bind(recommendation.to_string())
        .execute(&self.control)
        .await?;
        Ok(())
    }

    async fn offer(&self, phone: &str) -> Result<Option<Offer>, StoreError> {
        let row: Option<(Option<String>, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT offer_id, offer_expires_at FROM whatsapp_contacts WHERE phone = ?")
                .bind(phone)
                .fetch_optional(&self.control)
                .await?;
        Ok(match row {
            Some((Some(id), Some(expires_at))) => {
                Some(Offer { recommendation: rows::parse_uuid("recommendation", &id)?, expires_at })
            }
            _ => None,
        })
    }
}

async fn insert_outbound(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    m: &OutboundMessage,
) -> Result<u32, StoreError> {
    let done = sqlx::query(
        "INSERT INTO whatsapp_outbox (id, phone, tenant_id, kind, message, fallback, state, not_before, attempts,
                                      created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, 0, ?, ?) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&m.id)
    .bind(&m.phone)
    .bind(m.tenant.map(|t| t.to_string()))
    .bind(&m.kind)
    .bind(&m.message)
    .bind(&m.fallback)
    .bind(ts(m.not_before))
    .bind(ts(m.created_at))
    .bind(ts(m.updated_at))
    .execute(&mut **tx)
    .await?;
    Ok(u32::try_from(done.rows_affected()).unwrap_or(0))
}

fn contact_error(e: sqlx::Error, c: &Contact) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(format!("the number {} belongs to another user", c.phone))
    } else if is_foreign_key_violation(&e) {
        StoreError::UnknownReference { kind: "user", code: c.user.to_string() }
    } else {
        e.into()
    }
}
