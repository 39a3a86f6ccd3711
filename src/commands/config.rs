//! `fluxion config`: the effective settings, secrets redacted.

use crate::settings::Settings;

pub fn run(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let redacted = settings.redacted();
    if json {
        return super::print_json(&redacted);
    }
    print!("{}", toml::to_string_pretty(&redacted)?);
    Ok(())
}
