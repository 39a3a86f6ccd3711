//! Test support shared by the runtime and job suites.
#![allow(dead_code, clippy::unwrap_used)]

/// Whether tests that need Redis must fail (rather than skip) when it is not configured.
pub fn services_required() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
        || std::env::var("FLUXION_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The Redis URL for tests, or `None` (after saying so) when it is not configured and not required.
pub fn redis_url() -> Option<String> {
    match std::env::var("FLUXION_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if services_required() => panic!("FLUXION_TEST_REDIS_URL must be set: Redis tests are mandatory here"),
        _ => {
            eprintln!("FLUXION_TEST_REDIS_URL not set: the Redis run of this test is skipped");
            None
        }
    }
}
pub mod openai;
