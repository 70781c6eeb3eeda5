//! The deployment files a package carries for `endpoint.sh`: a systemd unit template and the
//! endpoint's default settings.

use aps_protocol::AppMeta;

/// Where the unit template lives in a package. `endpoint.sh` replaces `@ROOT@` and `@NAME@`.
pub(crate) const UNIT: &str = "deploy/aps-endpoint.service";
/// Where the default settings live in a package (`KEY=value` lines).
pub(crate) const SETTINGS: &str = "deploy/endpoint.env";

/// The unit template and the default settings for an app whose program is at `binary`.
pub(crate) fn files(meta: &AppMeta, binary: &str) -> [(&'static str, String); 2] {
    let app = format!("{} {}-{}", meta.name, meta.version, meta.release);
    let unit = format!(
        "# systemd unit of an APS endpoint of {app}.\n\
         # endpoint.sh installs it as aps-endpoint-<name>.service, replacing @ROOT@ and @NAME@;\n\
         # the serve arguments come from @ROOT@/@NAME@/endpoint.env, which it writes too.\n\
         [Unit]\n\
         Description=APS endpoint @NAME@ ({app})\n\
         After=network-online.target\n\
         Wants=network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         EnvironmentFile=@ROOT@/@NAME@/endpoint.env\n\
         ExecStart=@ROOT@/@NAME@/current/{binary} serve $APS_SERVE_ARGS\n\
         WorkingDirectory=@ROOT@/@NAME@/data\n\
         UMask=0077\n\
         Restart=on-failure\n\
         RestartSec=2\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n"
    );
    let settings = format!(
        "# Defaults of an APS endpoint of {app}, read by endpoint.sh;\n\
         # what its command line says wins, and an upgrade keeps the previous deployment's settings.\n\
         # The endpoint program inside the package.\n\
         APS_BINARY={binary}\n\
         # Where it listens when --listen is not given.\n\
         APS_LISTEN=0.0.0.0:8080\n"
    );
    [(UNIT, unit), (SETTINGS, settings)]
}
