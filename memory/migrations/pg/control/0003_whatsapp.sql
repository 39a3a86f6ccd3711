-- WhatsApp: who writes from which number, the durable inbox of Meta's webhooks, the outbox of send
-- intents, and which alerts were pushed to whom. This migration runs with search_path = control.
--
-- A webhook names a phone number, not a tenant, so like the accounts tables these are not under
-- row-level security: the contact row is what ties a number to a user and so to a tenant.

-- A user's WhatsApp number (digits only, country code first). One number per user, one user per number.
CREATE TABLE whatsapp_contacts (
    phone            TEXT PRIMARY KEY,
    user_id          UUID NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    stores           TEXT NOT NULL DEFAULT '[]',  -- JSON array of store codes; empty: every store
    alerts           BOOLEAN NOT NULL DEFAULT true,  -- opted in to pushed alerts
    offer_id         UUID,                        -- the suggestion a typed "sí" settles
    offer_expires_at TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX whatsapp_contacts_by_tenant ON whatsapp_contacts (tenant_id);

-- The 24-hour customer service window: the last message each number sent us (known or not).
CREATE TABLE whatsapp_windows (
    phone           TEXT PRIMARY KEY,
    last_inbound_at TIMESTAMPTZ NOT NULL
);

-- Inbound messages, one row per Meta message id: a redelivered webhook finds its row and adds nothing.
CREATE TABLE whatsapp_inbox (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    sent_at     TIMESTAMPTZ NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    event       TEXT NOT NULL,  -- the message, as JSON
    state       TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    held_until  TIMESTAMPTZ,    -- a worker's lease; past it, another worker may take the message
    attempts    BIGINT NOT NULL DEFAULT 0,
    outcome     TEXT,
    done_at     TIMESTAMPTZ
);
CREATE INDEX whatsapp_inbox_pending ON whatsapp_inbox (state, received_at);

-- Send intents. The id is chosen by what causes the message (the inbound message it answers, the
-- alerts it pushes, the approval it confirms), so doing that work twice queues nothing new.
CREATE TABLE whatsapp_outbox (
    id         TEXT PRIMARY KEY,
    phone      TEXT NOT NULL,
    tenant_id  UUID REFERENCES tenants (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    message    TEXT NOT NULL,   -- the Graph API body, as JSON
    fallback   TEXT,            -- the template body to send instead when the window is closed
    state      TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'uncertain', 'sent', 'failed')),
    not_before TIMESTAMPTZ NOT NULL,
    held_until TIMESTAMPTZ,
    attempts   BIGINT NOT NULL DEFAULT 0,
    wamid      TEXT UNIQUE,     -- Meta's id of the sent message
    delivery   TEXT,            -- the furthest status Meta reported: sent < delivered < read; failed is final
    error      TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX whatsapp_outbox_due ON whatsapp_outbox (state, not_before);
CREATE INDEX whatsapp_outbox_by_phone ON whatsapp_outbox (phone, kind, created_at);

-- Which alerts went to which number (each at most once).
CREATE TABLE whatsapp_pushes (
    phone     TEXT NOT NULL,
    alert_id  UUID NOT NULL,
    intent_id TEXT NOT NULL,
    pushed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (phone, alert_id)
);
