//! WhatsApp Business (Cloud API): the webhook's protocol ([`webhook`]), the Graph API client
//! ([`client`]) and the bodies it sends ([`messages`]), the channel itself ([`service`]: routes,
//! inbox workers, sender), what a message means ([`conversation`]), pushed alerts ([`push`]), and a
//! faithful fake of Meta for tests and benchmarks ([`fake`]).

pub mod client;
mod conversation;
pub mod fake;
pub mod messages;
pub mod push;
pub mod service;
pub mod webhook;

pub use client::{GraphClient, GraphConfig, SendError};
pub use service::{PushConfig, Templates, WhatsApp, WhatsAppConfig};
