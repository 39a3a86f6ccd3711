//! WhatsApp Business (Cloud API): the webhook's protocol ([`webhook`]).
//!
//! Issue 8 builds on this: the durable inbox and its worker, the Graph API client, proactive
//! alerts and approvals.

pub mod webhook;
