//! WhatsApp's durable state in the `control` schema. Claims lock rows with `FOR UPDATE SKIP
//! LOCKED`, so workers of several replicas take different rows without waiting on each other.

use super::super::messaging::{
    Contact, ContactRow, InboundMessage, InboundRow, Messaging, Offer, OutboundMessage, OutboundRow, SendOutcome,
    StatusUpdate, next_delivery,
};
use super::super::rows::{is_foreign_key_violation, is_unique_violation, micros};
use super::{PgStore, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use fluxion_domain::TenantId;
use sqlx::AssertSqlSafe;
use std::collections::HashSet;
use uuid::Uuid;

const OUTBOX_COLUMNS: &str = "id, phone, tenant_id::text AS tenant_id, kind, message, fallback, state, not_before, \
                              attempts, wamid, delivery, error, created_at, updated_at";
const INBOX_COLUMNS: &str = "id, phone, sent_at, received_at, event, attempts, state, outcome";
const CONTACT_COLUMNS: &str =
    "phone, user_id::text AS user_id, tenant_id::text AS tenant_id, stores, alerts, created_at";

#[async_trait]
impl Messaging for PgStore {
    async fn save_contact(&self, c: &Contact) -> Result<(), StoreError> {
        let mut tx = self.app.begin().await?;
        let tenant: Option<Option<Uuid>> = sqlx::query_scalar("SELECT tenant_id FROM control.users WHERE id = $1")
            .bind(c.user)
            .fetch_optional(&mut *tx)
            .await?;
        if tenant.flatten() != Some(c.tenant.as_uuid()) {
            return Err(StoreError::UnknownReference { kind: "user", code: c.user.to_string() });
        }
        sqlx::query("DELETE FROM control.whatsapp_contacts WHERE user_id = $1 AND phone <> $2")
            .bind(c.user)
            .bind(&c.phone)
            .execute(&mut *tx)
            .await?;
        let stores = serde_json::to_string(&c.stores).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let done = sqlx::query(
            "INSERT INTO control.whatsapp_contacts (phone, user_id, tenant_id, stores, alerts, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (phone) DO UPDATE SET stores = excluded.stores, alerts = excluded.alerts
             WHERE whatsapp_contacts.user_id = excluded.user_id",
        )
        .bind(&c.phone)
        .bind(c.user)
        .bind(c.tenant.as_uuid())
        .bind(stores)
        .bind(c.alerts)
        .bind(micros(c.created_at))
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
        let done = sqlx::query("DELETE FROM control.whatsapp_contacts WHERE user_id = $1 AND tenant_id = $2")
            .bind(user)
            .bind(tenant.as_uuid())
            .execute(&self.app)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn contact(&self, phone: &str) -> Result<Option<Contact>, StoreError> {
        let select = format!("SELECT {CONTACT_COLUMNS} FROM control.whatsapp_contacts WHERE phone = $1");
        let row: Option<ContactRow> =
            sqlx::query_as(AssertSqlSafe(select)).bind(phone).fetch_optional(&self.app).await?;
        row.map(Contact::try_from).transpose()
    }

    async fn contacts(&self, tenant: TenantId) -> Result<Vec<Contact>, StoreError> {
        let select =
            format!("SELECT {CONTACT_COLUMNS} FROM control.whatsapp_contacts WHERE tenant_id = $1 ORDER BY phone");
        let rows: Vec<ContactRow> =
            sqlx::query_as(AssertSqlSafe(select)).bind(tenant.as_uuid()).fetch_all(&self.app).await?;
        rows.into_iter().map(Contact::try_from).collect()
    }

    async fn receive(&self, messages: &[InboundMessage]) -> Result<u32, StoreError> {
        let mut tx = self.app.begin().await?;
        let mut new = 0;
        for m in messages {
            let done = sqlx::query(
                "INSERT INTO control.whatsapp_inbox (id, phone, sent_at, received_at, event)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            )
            .bind(&m.id)
            .bind(&m.phone)
            .bind(micros(m.sent_at))
            .bind(micros(m.received_at))
            .bind(&m.event)
            .execute(&mut *tx)
            .await?;
            new += u32::try_from(done.rows_affected()).unwrap_or(0);
            sqlx::query(
                "INSERT INTO control.whatsapp_windows (phone, last_inbound_at) VALUES ($1, $2)
                 ON CONFLICT (phone) DO UPDATE
                 SET last_inbound_at = greatest(whatsapp_windows.last_inbound_at, excluded.last_inbound_at)",
            )
            .bind(&m.phone)
            .bind(micros(m.sent_at))
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
        let rows: Vec<InboundRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE control.whatsapp_inbox SET held_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM control.whatsapp_inbox
                          WHERE state = 'pending' AND (held_until IS NULL OR held_until <= $2)
                          ORDER BY received_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING {INBOX_COLUMNS}"
        )))
        .bind(micros(now + lease))
        .bind(micros(now))
        .bind(i64::from(max))
        .fetch_all(&self.app)
        .await?;
        let mut out: Vec<InboundMessage> = rows.into_iter().map(InboundMessage::from).collect();
        out.sort_by(|a, b| (a.received_at, &a.id).cmp(&(b.received_at, &b.id)));
        Ok(out)
    }

    async fn finish_inbound(&self, id: &str, outcome: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE control.whatsapp_inbox SET state = 'done', outcome = $1, done_at = $2, held_until = NULL
             WHERE id = $3",
        )
        .bind(outcome)
        .bind(micros(Utc::now()))
        .bind(id)
        .execute(&self.app)
        .await?;
        Ok(())
    }

    async fn inbound(&self, id: &str) -> Result<Option<(InboundMessage, String, Option<String>)>, StoreError> {
        let select = format!("SELECT {INBOX_COLUMNS} FROM control.whatsapp_inbox WHERE id = $1");
        let row: Option<InboundRow> = sqlx::query_as(AssertSqlSafe(select)).bind(id).fetch_optional(&self.app).await?;
        Ok(row.map(|r| {
            let (state, outcome) = (r.state.clone(), r.outcome.clone());
            (InboundMessage::from(r), state, outcome)
        }))
    }

    async fn inbox_pending(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM control.whatsapp_inbox WHERE state = 'pending'")
            .fetch_one(&self.app)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn last_inbound(&self, phone: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT last_inbound_at FROM control.whatsapp_windows WHERE phone = $1")
            .bind(phone)
            .fetch_optional(&self.app)
            .await?)
    }

    async fn queue(&self, messages: &[OutboundMessage]) -> Result<u32, StoreError> {
        let mut tx = self.app.begin().await?;
        let mut new = 0;
        for m in messages {
            new += insert_outbound(&mut tx, m).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    async fn queue_push(&self, message: &OutboundMessage, alerts: &[Uuid]) -> Result<bool, StoreError> {
        let mut tx = self.app.begin().await?;
        if insert_outbound(&mut tx, message).await? == 0 {
            return Ok(false);
        }
        for a in alerts {
            sqlx::query(
                "INSERT INTO control.whatsapp_pushes (phone, alert_id, intent_id, pushed_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (phone, alert_id) DO NOTHING",
            )
            .bind(&message.phone)
            .bind(a)
            .bind(&message.id)
            .bind(micros(message.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn pushed(&self, phone: &str, alerts: &[Uuid]) -> Result<HashSet<Uuid>, StoreError> {
        let ids: Vec<Uuid> =
            sqlx::query_scalar("SELECT alert_id FROM control.whatsapp_pushes WHERE phone = $1 AND alert_id = ANY($2)")
                .bind(phone)
                .bind(alerts)
                .fetch_all(&self.app)
                .await?;
        Ok(ids.into_iter().collect())
    }

    async fn claim_outbound(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        max: u32,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let rows: Vec<OutboundRow> = sqlx::query_as(AssertSqlSafe(format!(
            "UPDATE control.whatsapp_outbox SET held_until = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM control.whatsapp_outbox
                          WHERE state IN ('pending', 'uncertain') AND not_before <= $2
                            AND (held_until IS NULL OR held_until <= $2)
                          ORDER BY not_before, created_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING {OUTBOX_COLUMNS}"
        )))
        .bind(micros(now + lease))
        .bind(micros(now))
        .bind(i64::from(max))
        .fetch_all(&self.app)
        .await?;
        let mut out = rows.into_iter().map(OutboundMessage::try_from).collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    async fn finish_outbound(&self, id: &str, outcome: &SendOutcome) -> Result<(), StoreError> {
        let now = micros(Utc::now());
        let q = match outcome {
            SendOutcome::Sent { wamid } => sqlx::query(
                "UPDATE control.whatsapp_outbox SET state = 'sent', wamid = $1,
                 delivery = coalesce(delivery, 'accepted'), error = NULL, held_until = NULL, updated_at = $2
                 WHERE id = $3 AND state IN ('pending', 'uncertain')",
            )
            .bind(wamid)
            .bind(now)
            .bind(id),
            SendOutcome::Retry { at, error, uncertain } => sqlx::query(
                "UPDATE control.whatsapp_outbox SET state = $1, not_before = $2, error = $3, held_until = NULL,
                 updated_at = $4 WHERE id = $5 AND state IN ('pending', 'uncertain')",
            )
            .bind(if *uncertain { "uncertain" } else { "pending" })
            .bind(micros(*at))
            .bind(error)
            .bind(now)
            .bind(id),
            SendOutcome::Replace { message } => sqlx::query(
                "UPDATE control.whatsapp_outbox SET state = 'pending', message = $1, fallback = NULL, wamid = NULL, delivery = NULL,
                 held_until = NULL, updated_at = $2 WHERE id = $3 AND state IN ('pending', 'uncertain', 'sent')",
            )
            .bind(message)
            .bind(now)
            .bind(id),
            SendOutcome::Failed { error } => sqlx::query(
                "UPDATE control.whatsapp_outbox SET state = 'failed', error = $1, held_until = NULL, updated_at = $2
                 WHERE id = $3 AND state IN ('pending', 'uncertain')",
            )
            .bind(error)
            .bind(now)
            .bind(id),
        };
        q.execute(&self.app).await?;
        Ok(())
    }

    async fn record_status(&self, s: &StatusUpdate) -> Result<Option<OutboundMessage>, StoreError> {
        let mut tx = self.app.begin().await?;
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM control.whatsapp_outbox WHERE wamid = $1 FOR UPDATE");
        let mut row: Option<OutboundRow> =
            sqlx::query_as(AssertSqlSafe(select)).bind(&s.wamid).fetch_optional(&mut *tx).await?;
        if row.is_none()
            && let Some(intent) = &s.intent
        {
            let select = format!("SELECT {OUTBOX_COLUMNS} FROM control.whatsapp_outbox WHERE id = $1 FOR UPDATE");
            row = sqlx::query_as(AssertSqlSafe(select)).bind(intent).fetch_optional(&mut *tx).await?;
        }
        let Some(row) = row else { return Ok(None) };
        let delivery = next_delivery(row.delivery.as_deref(), &s.status);
        let error = (!s.errors.is_empty()).then(|| format!("status {}: {:?}", s.status, s.errors));
        let state = if matches!(row.state.as_str(), "pending" | "uncertain") { "sent" } else { row.state.as_str() };
        let update = format!(
            "UPDATE control.whatsapp_outbox SET delivery = $1, state = $2, wamid = coalesce(wamid, $3),
             error = coalesce($4, error), updated_at = $5 WHERE id = $6 RETURNING {OUTBOX_COLUMNS}"
        );
        let row: OutboundRow = sqlx::query_as(AssertSqlSafe(update))
            .bind(&delivery)
            .bind(state)
            .bind(&s.wamid)
            .bind(error)
            .bind(micros(Utc::now()))
            .bind(&row.id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Some(OutboundMessage::try_from(row)?))
    }

    async fn outbound(&self, id: &str) -> Result<Option<OutboundMessage>, StoreError> {
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM control.whatsapp_outbox WHERE id = $1");
        let row: Option<OutboundRow> = sqlx::query_as(AssertSqlSafe(select)).bind(id).fetch_optional(&self.app).await?;
        row.map(OutboundMessage::try_from).transpose()
    }

    async fn outbound_by_wamid(&self, wamid: &str) -> Result<Option<OutboundMessage>, StoreError> {
        let select = format!("SELECT {OUTBOX_COLUMNS} FROM control.whatsapp_outbox WHERE wamid = $1");
        let row: Option<OutboundRow> =
            sqlx::query_as(AssertSqlSafe(select)).bind(wamid).fetch_optional(&self.app).await?;
        row.map(OutboundMessage::try_from).transpose()
    }

    async fn outbox(
        &self,
        phone: &str,
        kind: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let select = format!(
            "SELECT {OUTBOX_COLUMNS} FROM control.whatsapp_outbox
             WHERE phone = $1 AND ($2::text IS NULL OR kind = $2) AND created_at >= $3 ORDER BY created_at, id"
        );
        let rows: Vec<OutboundRow> = sqlx::query_as(AssertSqlSafe(select))
            .bind(phone)
            .bind(kind)
            .bind(micros(since))
            .fetch_all(&self.app)
            .await?;
        rows.into_iter().map(OutboundMessage::try_from).collect()
    }

    async fn outbox_pending(&self) -> Result<u64, StoreError> {
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM control.whatsapp_outbox WHERE state IN ('pending', 'uncertain')")
                .fetch_one(&self.app)
                .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn set_offer(&self, phone: &str, offer: &Offer) -> Result<(), StoreError> {
        sqlx::query("UPDATE control.whatsapp_contacts SET offer_id = $1, offer_expires_at = $2 WHERE phone = $3")
            .bind(offer.recommendation)
            .bind(micros(offer.expires_at))
            .bind(phone)
            .execute(&self.app)
            .await?;
        Ok(())
    }

    async fn clear_offer(&self, phone: &str, recommendation: Uuid) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE control.whatsapp_contacts SET offer_id = NULL, offer_expires_at = NULL
             WHERE phone = $1 AND offer_id = $2",
        )
        .bind(phone)
        .bind(recommendation)
        .execute(&self.app)
        .await?;
        Ok(())
    }

    async fn offer(&self, phone: &str) -> Result<Option<Offer>, StoreError> {
        let row: Option<(Option<Uuid>, Option<DateTime<Utc>>)> =
            sqlx::query_as("SELECT offer_id, offer_expires_at FROM control.whatsapp_contacts WHERE phone = $1")
                .bind(phone)
                .fetch_optional(&self.app)
                .await?;
        Ok(match row {
            Some((Some(recommendation), Some(expires_at))) => Some(Offer { recommendation, expires_at }),
            _ => None,
        })
    }
}

async fn insert_outbound(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    m: &OutboundMessage,
) -> Result<u32, StoreError> {
    let done = sqlx::query(
        "INSERT INTO control.whatsapp_outbox (id, phone, tenant_id, kind, message, fallback, state, not_before,
                                              attempts, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, 0, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&m.id)
    .bind(&m.phone)
    .bind(m.tenant.map(|t| t.as_uuid()))
    .bind(&m.kind)
    .bind(&m.message)
    .bind(&m.fallback)
    .bind(micros(m.not_before))
    .bind(micros(m.created_at))
    .bind(micros(m.updated_at))
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
