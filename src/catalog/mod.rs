//! The catalog: what NetSession leaves behind, as data.
//!
//! The embedded `netsession.toml` ships inside the binary; `--catalog FILE` adds rules in
//! the same format. Rules are validated when loaded so a typo in a user's catalog is an
//! error with the rule's id, never a silently dead rule.

mod diagnose;
mod event_rule;
mod log_event;
mod matcher;
mod pattern;

pub use event_rule::{EventRule, EventRuleDef};
pub use log_event::{LogEvent, LogEventDef, LogEvents};
pub use matcher::{DirState, EntryMatch, MatchKind, Matcher};
pub use pattern::{Component, PathPattern, fold_case, wildcard_match};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The catalog built into the binary.
pub const EMBEDDED_CATALOG: &str = include_str!("netsession.toml");

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read catalog {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("catalog {origin}: {message}")]
    Syntax { origin: String, message: String },
    /// A rule that does not read: `place` names the rule, the field and the line.
    #[error("catalog {origin}: {place}: {reason}")]
    BadField {
        origin: String,
        place: String,
        reason: String,
    },
    #[error("catalog {origin}: rule {id:?}: {reason}")]
    BadRule {
        origin: String,
        id: String,
        reason: String,
    },
    #[error("bad pattern {pattern:?}: {reason}")]
    BadPattern { pattern: String, reason: String },
}

/// How sure we are that a rule's artifact belongs to NetSession (the catalog's header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Confidence {
    /// Akamai's own documents.
    A,
    /// Independent secondary sources.
    S,
    /// A reasoned guess: looked for, and labelled as such in the output.
    G,
}

impl Confidence {
    pub fn describe(self) -> &'static str {
        match self {
            Confidence::A => "documented by Akamai",
            Confidence::S => "reported by independent sources",
            Confidence::G => "reasoned guess, not documented",
        }
    }
}

/// Fields every rule carries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleInfo {
    /// Stable id, used as the evidence row's `artifact`.
    pub id: String,
    /// Noun phrase naming the artifact, e.g. "NetSession client executable".
    pub what: String,
    /// What its presence shows.
    pub proves: String,
    pub confidence: Confidence,
    /// Where the knowledge comes from.
    pub source: String,
}

/// Whether a file rule names single files or a folder whose whole tree is inventoried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    #[default]
    File,
    Tree,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRuleDef {
    #[serde(flatten)]
    pub info: RuleInfo,
    pub paths: Vec<String>,
    #[serde(default)]
    pub scope: Scope,
    /// How the file's content is read: "text" reads it for timestamped lines and
    /// indicators; "none" only inventories it. Members of a tree decide by their class.
    #[serde(default)]
    pub content: Option<ContentKind>,
    /// The rule's `*.<ext>` patterns name files anywhere in a folder or archive given
    /// (exported copies), tested on each name by those walks; inside a disk image only
    /// its other patterns apply.
    #[serde(default)]
    pub loose: bool,
    /// The system whose volumes the rule's paths describe: "windows" (the default) or
    /// "macos". Paths of a macOS rule's matches are written with `/`, as on the Mac.
    #[serde(default)]
    pub os: Os,
}

/// The system a file rule's locations belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    #[default]
    Windows,
    Macos,
}

impl Os {
    /// The separator of paths on this system's volumes.
    pub fn separator(self) -> &'static str {
        match self {
            Os::Windows => "\\",
            Os::Macos => "/",
        }
    }
}

/// What kind of file a member of an install tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum FileClass {
    Executable,
    Dll,
    Text,
    Log,
    Cache,
    CrashDump,
    /// Certificate bundles (PEM): their validity dates are not events.
    Certificates,
    Other,
}

impl FileClass {
    pub fn describe(self) -> &'static str {
        match self {
            FileClass::Executable => "executable",
            FileClass::Dll => "DLL",
            FileClass::Text => "text/config file",
            FileClass::Log => "log file",
            FileClass::Cache => "cache blob",
            FileClass::CrashDump => "crash dump",
            FileClass::Certificates => "certificate bundle",
            FileClass::Other => "file",
        }
    }

    /// Classes whose content the text reader goes through.
    pub fn is_textual(self) -> bool {
        matches!(self, FileClass::Text | FileClass::Log)
    }
}

/// A test on a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    /// Decodes as text (UTF-8 or UTF-16).
    Text,
    /// Starts with the `MZ` of a Windows executable.
    Pe,
    /// Neither text nor executable: an opaque blob.
    Opaque,
    /// Not read at all (with `content` on a file rule).
    None,
    /// A registry hive (`regf`): read by the registry analysis, with its logs.
    Hive,
    /// A Windows event log (`ElfFile`): its records read for the `[[event]]` rules.
    #[serde(rename = "evtx")]
    EventLog,
    /// The SRUM database (ESE): network usage of the programs `[terms] srum` names.
    Srum,
    /// A Windows Prefetch file (`SCCA`, or `MAM` compressed): its runs, when its program
    /// or the files it loaded are named by `[terms] prefetch`.
    Prefetch,
}

/// Classifies a file inside an install tree. Members are tried in order; the first whose
/// tests all pass wins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberRuleDef {
    #[serde(flatten)]
    pub info: RuleInfo,
    pub class: FileClass,
    /// Wildcards on the file name; any may match. Absent: any name.
    #[serde(default)]
    pub names: Vec<String>,
    /// Wildcards on the folders between the tree root and the file; any folder may match.
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub content: Option<ContentKind>,
    /// A reader for what the file holds, besides its log lines and indicators.
    #[serde(default)]
    pub reader: Option<FileReader>,
}

/// Readers of NetSession's own state and configuration files (`reader = "..."` on a
/// member rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileReader {
    /// `euc_state.json`: concatenated JSON objects of persisted state.
    NetsessionState,
    /// `client.ini`: build, version and hosts.
    ClientIni,
    /// `guid.ini`: the client's GUID.
    GuidIni,
    /// `user.dat`: the user's settings (uploads paused).
    UserDat,
    /// `CplTasks.xml`: the Control Panel registration.
    CplTasks,
    /// `diagnostic_report.txt`: attributes, log lines and a copy of the state.
    DiagnosticReport,
}

impl FileReader {
    /// What the reader reads, for warnings: `NetSession state (euc_state.json)`.
    pub fn describe(self) -> &'static str {
        match self {
            FileReader::NetsessionState => "NetSession state (euc_state.json)",
            FileReader::ClientIni => "NetSession configuration (client.ini)",
            FileReader::GuidIni => "NetSession GUID file (guid.ini)",
            FileReader::UserDat => "NetSession user settings (user.dat)",
            FileReader::CplTasks => "NetSession Control Panel tasks (CplTasks.xml)",
            FileReader::DiagnosticReport => "NetSession diagnostic report",
        }
    }
}

/// A registry location and the parser family that reads it (the registry analysis
/// consumes these).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryRuleDef {
    #[serde(flatten)]
    pub info: RuleInfo,
    /// SYSTEM, SOFTWARE, NTUSER, UsrClass or Amcache.
    pub hives: Vec<String>,
    /// Key paths inside the hive; `<controlset>` stands for the current control set,
    /// `*` for any one key name.
    pub keys: Vec<String>,
    /// Which parser interprets the key, as written: one of [`RegistryFamily::ALL`]'s
    /// names (checked when the catalog is loaded).
    pub family: String,
}

/// The parser family of a registry rule: one per family in `registry::artifacts`.
/// Catalogs name it in snake_case (`firewall_xp`), the spelling serde reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegistryFamily {
    /// Run/RunOnce values: programs started at logon.
    Run,
    /// Uninstall entries: installed software.
    Uninstall,
    /// A service key (`ImagePath`, `Parameters\ServiceDll`, `Start`).
    Service,
    /// svchost groups hosting a NetSession service.
    Svchost,
    /// Windows Firewall rules (Vista+).
    Firewall,
    /// Windows XP firewall exceptions.
    FirewallXp,
    /// Background Activity Moderator: last execution per user.
    Bam,
    /// UserAssist: launches from the shell, ROT13-encoded.
    #[serde(rename = "userassist")]
    UserAssist,
    /// Amcache inventory entries.
    Amcache,
    /// AppCompatCache (ShimCache) entries.
    #[serde(rename = "appcompatcache")]
    AppCompatCache,
    /// MUICache: programs the shell has run.
    #[serde(rename = "muicache")]
    MuiCache,
    /// Control Panel applets (`Cpls`).
    Cpl,
    /// A key that is NetSession's by its path (the 1.9.x Control Panel item).
    RegisteredKey,
    /// A deleted key or value recovered from a hive's free cells that names NetSession
    /// but no other rule places (its key unknown, its path partial, or no rule's key).
    /// Its rule names no keys.
    DeletedEntry,
}

impl RegistryFamily {
    /// Every family, in the order the embedded catalog lists them.
    pub const ALL: [RegistryFamily; 14] = [
        RegistryFamily::Run,
        RegistryFamily::Uninstall,
        RegistryFamily::Service,
        RegistryFamily::Svchost,
        RegistryFamily::Firewall,
        RegistryFamily::FirewallXp,
        RegistryFamily::Bam,
        RegistryFamily::UserAssist,
        RegistryFamily::Amcache,
        RegistryFamily::AppCompatCache,
        RegistryFamily::MuiCache,
        RegistryFamily::Cpl,
        RegistryFamily::RegisteredKey,
        RegistryFamily::DeletedEntry,
    ];

    /// The name a catalog gives the family (what serde reads).
    pub fn name(self) -> &'static str {
        match self {
            RegistryFamily::Run => "run",
            RegistryFamily::Uninstall => "uninstall",
            RegistryFamily::Service => "service",
            RegistryFamily::Svchost => "svchost",
            RegistryFamily::Firewall => "firewall",
            RegistryFamily::FirewallXp => "firewall_xp",
            RegistryFamily::Bam => "bam",
            RegistryFamily::UserAssist => "userassist",
            RegistryFamily::Amcache => "amcache",
            RegistryFamily::AppCompatCache => "appcompatcache",
            RegistryFamily::MuiCache => "muicache",
            RegistryFamily::Cpl => "cpl",
            RegistryFamily::RegisteredKey => "registered_key",
            RegistryFamily::DeletedEntry => "deleted_entry",
        }
    }

    /// The family a catalog names; the error says what the known names are.
    pub fn from_name(name: &str) -> Result<RegistryFamily, String> {
        use serde::de::IntoDeserializer;
        let deserializer: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            name.into_deserializer();
        RegistryFamily::deserialize(deserializer).map_err(|_| {
            let known: Vec<&str> = RegistryFamily::ALL.iter().map(|f| f.name()).collect();
            format!(
                "field `family`: unknown registry family {name:?} (known families: {})",
                known.join(", ")
            )
        })
    }
}

impl std::fmt::Display for RegistryFamily {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermsDef {
    /// Case-insensitive substrings that make a registry key or value NetSession's.
    #[serde(default)]
    pub registry: Vec<String>,
    /// Case-insensitive substrings that make an event log record NetSession's (in the
    /// fields its `[[event]]` rule names).
    #[serde(default)]
    pub events: Vec<String>,
    /// Case-insensitive substrings of an application's name or path in SRUM's id map.
    #[serde(default)]
    pub srum: Vec<String>,
    /// Case-insensitive substrings of a Prefetch file's executable name, or of the paths
    /// of the files it loaded (NT device paths, upper case in the file).
    #[serde(default)]
    pub prefetch: Vec<String>,
}

/// One catalog file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDef {
    #[serde(default)]
    pub placeholders: BTreeMap<String, Vec<String>>,
    #[serde(default, rename = "file")]
    pub files: Vec<FileRuleDef>,
    #[serde(default, rename = "member")]
    pub members: Vec<MemberRuleDef>,
    #[serde(default, rename = "registry")]
    pub registry: Vec<RegistryRuleDef>,
    #[serde(default, rename = "log_event")]
    pub log_events: Vec<LogEventDef>,
    #[serde(default, rename = "event")]
    pub events: Vec<EventRuleDef>,
    #[serde(default)]
    pub terms: TermsDef,
}

/// A file rule with its patterns compiled.
#[derive(Debug, Clone)]
pub struct FileRule {
    pub info: RuleInfo,
    pub scope: Scope,
    pub content: Option<ContentKind>,
    pub patterns: Vec<PathPattern>,
    /// See [`FileRuleDef::loose`].
    pub loose: bool,
    /// See [`FileRuleDef::os`].
    pub os: Os,
}

/// A registry rule with its family checked.
#[derive(Debug, Clone)]
pub struct RegistryRule {
    pub info: RuleInfo,
    /// SYSTEM, SOFTWARE, NTUSER, UsrClass or Amcache.
    pub hives: Vec<String>,
    /// Key paths inside the hive (see [`RegistryRuleDef::keys`]).
    pub keys: Vec<String>,
    pub family: RegistryFamily,
}

/// A member rule with its wildcards folded to lower case.
#[derive(Debug, Clone)]
pub struct MemberRule {
    pub info: RuleInfo,
    pub class: FileClass,
    pub names: Vec<String>,
    pub dirs: Vec<String>,
    pub content: Option<ContentKind>,
    pub reader: Option<FileReader>,
}

impl MemberRule {
    /// Does this rule classify a file named `lower_name` (lower-cased), below the tree
    /// root through `lower_dirs`, whose first bytes are of kind `content`?
    pub fn accepts(&self, lower_name: &str, lower_dirs: &[String], content: ContentKind) -> bool {
        let name_ok =
            self.names.is_empty() || self.names.iter().any(|n| wildcard_match(n, lower_name));
        let dir_ok = self.dirs.is_empty()
            || lower_dirs
                .iter()
                .any(|d| self.dirs.iter().any(|p| wildcard_match(p, d)));
        let content_ok = self.content.is_none_or(|c| c == content);
        name_ok && dir_ok && content_ok
    }
}

/// The loaded catalog: embedded rules plus any extra catalogs.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub files: Vec<FileRule>,
    pub members: Vec<MemberRule>,
    pub registry: Vec<RegistryRule>,
    pub registry_terms: Vec<String>,
    /// Events named in NetSession's log lines, in catalog order.
    pub log_events: LogEvents,
    /// Events of Windows event logs, in catalog order.
    pub events: Vec<EventRule>,
    /// Lower-cased terms naming NetSession's programs in SRUM.
    pub srum_terms: Vec<String>,
    /// Lower-cased terms naming NetSession's programs and paths in Prefetch files.
    pub prefetch_terms: Vec<String>,
    /// The text of every catalog that went in, in order (hashed into the manifest later).
    pub sources: Vec<(String, String)>,
}

impl Catalog {
    /// The embedded catalog alone.
    pub fn embedded() -> Result<Catalog, CatalogError> {
        Catalog::build(&[("embedded".to_string(), EMBEDDED_CATALOG.to_string())])
    }

    /// The embedded catalog plus the files given with `--catalog`.
    pub fn with_extra_files(extra: &[PathBuf]) -> Result<Catalog, CatalogError> {
        let mut texts = vec![("embedded".to_string(), EMBEDDED_CATALOG.to_string())];
        for path in extra {
            texts.push((path.display().to_string(), read_catalog_file(path)?));
        }
        Catalog::build(&texts)
    }

    /// Build from catalog texts, the first being the base. Placeholders of all catalogs
    /// are merged (a later catalog may add alternatives). Member rules of later catalogs
    /// are tried before those of earlier ones, so a user's rule can refine the embedded
    /// classification.
    pub fn build(texts: &[(String, String)]) -> Result<Catalog, CatalogError> {
        let mut defs = Vec::new();
        for (origin, text) in texts {
            let def: CatalogDef =
                toml::from_str(text).map_err(|e| diagnose::explain(origin, text, &e))?;
            defs.push((origin.clone(), def));
        }
        let mut placeholders: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (_, def) in &defs {
            for (name, alts) in &def.placeholders {
                let entry = placeholders.entry(name.to_ascii_lowercase()).or_default();
                for alt in alts {
                    if !entry.contains(alt) {
                        entry.push(alt.clone());
                    }
                }
            }
        }
        let mut catalog = Catalog {
            files: Vec::new(),
            members: Vec::new(),
            registry: Vec::new(),
            registry_terms: Vec::new(),
            log_events: LogEvents::default(),
            events: Vec::new(),
            srum_terms: Vec::new(),
            prefetch_terms: Vec::new(),
            sources: texts.to_vec(),
        };
        let mut event_terms = Vec::new();
        for (origin, def) in &defs {
            for term in &def.terms.events {
                if term.trim().is_empty() {
                    return Err(CatalogError::Syntax {
                        origin: origin.clone(),
                        message: "empty event term".into(),
                    });
                }
                event_terms.push(term.clone());
            }
        }
        let mut log_events = Vec::new();
        for (origin, def) in defs.iter() {
            for rule in &def.files {
                validate_info(origin, &rule.info)?;
                let mut patterns = Vec::new();
                for text in &rule.paths {
                    patterns.extend(pattern::expand(text, &placeholders).map_err(|e| {
                        CatalogError::BadRule {
                            origin: origin.clone(),
                            id: rule.info.id.clone(),
                            reason: format!("field `paths`: {e}"),
                        }
                    })?);
                }
                if patterns.is_empty() {
                    return Err(bad_rule(origin, &rule.info, "field `paths`: no paths"));
                }
                if rule.loose
                    && !patterns
                        .iter()
                        .any(|p| matcher::extension_of(&p.components).is_some())
                {
                    return Err(bad_rule(
                        origin,
                        &rule.info,
                        "field `loose`: true needs a one-component `*.<ext>` pattern in `paths`",
                    ));
                }
                catalog.files.push(FileRule {
                    info: rule.info.clone(),
                    scope: rule.scope,
                    content: rule.content,
                    patterns,
                    loose: rule.loose,
                    os: rule.os,
                });
            }
            for rule in &def.registry {
                validate_info(origin, &rule.info)?;
                let family = RegistryFamily::from_name(&rule.family)
                    .map_err(|reason| bad_rule(origin, &rule.info, &reason))?;
                // A deleted entry's rule places what no key pattern could: it has none.
                let keys_needed = family != RegistryFamily::DeletedEntry;
                if rule.hives.is_empty() || (keys_needed && rule.keys.is_empty()) {
                    return Err(bad_rule(
                        origin,
                        &rule.info,
                        "fields `hives` and `keys`: needs both",
                    ));
                }
                catalog.registry.push(RegistryRule {
                    info: rule.info.clone(),
                    hives: rule.hives.clone(),
                    keys: rule.keys.clone(),
                    family,
                });
            }
            for rule in &def.log_events {
                validate_info(origin, &rule.info)?;
                log_events.push(
                    log_event::compile(rule)
                        .map_err(|reason| bad_rule(origin, &rule.info, &reason))?,
                );
            }
            for rule in &def.events {
                validate_info(origin, &rule.info)?;
                catalog.events.push(
                    event_rule::compile(rule, &event_terms)
                        .map_err(|reason| bad_rule(origin, &rule.info, &reason))?,
                );
            }
            for (kind, terms, into) in [
                ("srum", &def.terms.srum, &mut catalog.srum_terms),
                ("prefetch", &def.terms.prefetch, &mut catalog.prefetch_terms),
            ] {
                for term in terms {
                    if term.trim().is_empty() {
                        return Err(CatalogError::Syntax {
                            origin: origin.clone(),
                            message: format!("empty {kind} term"),
                        });
                    }
                    into.push(term.to_lowercase());
                }
            }
            for term in &def.terms.registry {
                if term.trim().is_empty() {
                    return Err(CatalogError::Syntax {
                        origin: origin.clone(),
                        message: "empty registry term".into(),
                    });
                }
                catalog.registry_terms.push(term.clone());
            }
        }
        for (origin, def) in defs.iter().rev() {
            for rule in &def.members {
                validate_info(origin, &rule.info)?;
                catalog.members.push(MemberRule {
                    info: rule.info.clone(),
                    class: rule.class,
                    names: rule.names.iter().map(|n| n.to_lowercase()).collect(),
                    dirs: rule.dirs.iter().map(|d| d.to_lowercase()).collect(),
                    content: rule.content,
                    reader: rule.reader,
                });
            }
        }
        catalog.log_events = LogEvents::new(log_events).map_err(|e| CatalogError::Syntax {
            origin: "catalog".into(),
            message: format!("log event patterns: {e}"),
        })?;
        if catalog.files.is_empty() {
            return Err(CatalogError::Syntax {
                origin: "catalog".into(),
                message: "no file rules at all".into(),
            });
        }
        Ok(catalog)
    }

    /// Classify a file inside an install tree; `None` when no member rule accepts it.
    pub fn classify(
        &self,
        lower_name: &str,
        lower_dirs: &[String],
        content: ContentKind,
    ) -> Option<&MemberRule> {
        self.members
            .iter()
            .find(|m| m.accepts(lower_name, lower_dirs, content))
    }
}

fn read_catalog_file(path: &Path) -> Result<String, CatalogError> {
    std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn bad_rule(origin: &str, info: &RuleInfo, reason: &str) -> CatalogError {
    CatalogError::BadRule {
        origin: origin.to_string(),
        id: info.id.clone(),
        reason: reason.to_string(),
    }
}

fn validate_info(origin: &str, info: &RuleInfo) -> Result<(), CatalogError> {
    let id_ok = !info.id.is_empty()
        && info
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_');
    if !id_ok {
        return Err(bad_rule(
            origin,
            info,
            "field `id`: must be lower-case letters, digits, '.' and '_'",
        ));
    }
    if info.what.trim().is_empty() {
        return Err(bad_rule(origin, info, "field `what`: is empty"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_loads_and_covers_the_known_locations() {
        let c = Catalog::embedded().unwrap();
        let all: Vec<String> = c
            .files
            .iter()
            .flat_map(|r| r.patterns.iter().map(|p| p.text.to_lowercase()))
            .collect();
        for needle in [
            "users\\<user>\\appdata\\local\\akamai",
            "documents and settings\\<user>\\local settings\\application data\\akamai",
            "program files\\common files\\akamai",
            "program files (x86)\\common files\\akamai",
            "users\\<user>\\applications\\akamai",
            "applications\\akamai",
            "windows\\prefetch\\*.pf",
            "users\\<user>\\library\\launchagents\\com.akamai.single-user-client.plist",
        ] {
            assert!(all.iter().any(|p| p == needle), "missing {needle}");
        }
        assert!(
            c.registry
                .iter()
                .any(|r| r.family == RegistryFamily::Firewall)
        );
        assert!(c.registry_terms.iter().any(|t| t == "netsession_win"));
    }

    #[test]
    fn bad_user_catalogs_are_errors_naming_the_rule() {
        let base = ("embedded".to_string(), EMBEDDED_CATALOG.to_string());
        let bad_id = "[[file]]\nid = \"Bad Id\"\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"x\"\npaths = [\"a\\\\b\"]\n";
        let err = Catalog::build(&[base.clone(), ("mine.toml".into(), bad_id.into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mine.toml") && err.contains("Bad Id"), "{err}");
        let bad_placeholder = bad_id
            .replace("Bad Id", "x.y")
            .replace("a\\\\b", "<nowhere>\\\\b");
        let err = Catalog::build(&[base.clone(), ("mine.toml".into(), bad_placeholder)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown placeholder"), "{err}");
        let unknown_field = "[[file]]\nid = \"x\"\npath = \"a\"\n";
        assert!(Catalog::build(&[base, ("mine.toml".into(), unknown_field.into())]).is_err());
    }

    #[test]
    fn registry_family_names_are_the_ones_serde_reads() {
        for family in RegistryFamily::ALL {
            assert_eq!(RegistryFamily::from_name(family.name()), Ok(family));
        }
        // The embedded catalog uses every family.
        let c = Catalog::embedded().unwrap();
        for family in RegistryFamily::ALL {
            assert!(c.registry.iter().any(|r| r.family == family), "{family}");
        }
    }

    #[test]
    fn unknown_registry_family_is_an_error_naming_the_rule_and_the_field() {
        let base = ("embedded".to_string(), EMBEDDED_CATALOG.to_string());
        let typo = "[[registry]]\nid = \"case.firewall_rules\"\nfamily = \"firewal\"\nhives = [\"SOFTWARE\"]\nkeys = [\"Policies\\\\Microsoft\"]\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"x\"\n";
        let err = Catalog::build(&[base, ("mine.toml".into(), typo.into())])
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "catalog mine.toml: rule \"case.firewall_rules\": field `family`: unknown registry family \"firewal\" (known families: run, uninstall, service, svchost, firewall, firewall_xp, bam, userassist, amcache, appcompatcache, muicache, cpl, registered_key, deleted_entry)"
        );
    }

    #[test]
    fn loose_rules_need_an_extension_pattern() {
        let base = ("embedded".to_string(), EMBEDDED_CATALOG.to_string());
        let rule = "[[file]]\nid = \"x.y\"\nloose = true\npaths = [\"Logs\\\\a.evtx\"]\nwhat = \"x\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"x\"\n";
        let err = Catalog::build(&[base.clone(), ("mine.toml".into(), rule.into())])
            .unwrap_err()
            .to_string();
        assert!(err.contains("field `loose`: true needs"), "{err}");
        let ok = rule.replace("Logs\\\\a.evtx", "*.etl");
        assert!(Catalog::build(&[base, ("mine.toml".into(), ok)]).is_ok());
    }

    #[test]
    fn user_member_rules_come_first() {
        let base = ("embedded".to_string(), EMBEDDED_CATALOG.to_string());
        let extra = "[[member]]\nid = \"install.peer_index\"\nwhat = \"peer index\"\nproves = \"x\"\nconfidence = \"G\"\nsource = \"case 17\"\nclass = \"cache\"\nnames = [\"*.IDX\"]\n";
        let c = Catalog::build(&[base, ("mine.toml".into(), extra.into())]).unwrap();
        let rule = c.classify("a.idx", &[], ContentKind::Opaque).unwrap();
        assert_eq!(rule.info.id, "install.peer_index");
    }
}
