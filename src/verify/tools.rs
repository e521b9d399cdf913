//! The Docker engine and the builder `verify` uses, chosen once: the docker command line (with
//! buildx when the plugin is there) or the Engine API through bollard.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::VerifyConfig;

use super::Options;
use super::bollard::BollardBuilder;
use super::engine::{BuildOptions, Builder, DockerCli, Engine};

/// How to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuilderChoice {
    /// docker buildx when the plugin is there, else the Engine API.
    Auto,
    /// The docker command line.
    Cli,
    /// The Engine API, through bollard.
    Bollard,
}

/// A connected engine and the builder to use with it.
pub struct Tools {
    engine: DockerCli,
    bollard: Option<BollardBuilder>,
}

impl Tools {
    /// Connects to the engine through `docker` (default: `$HARDEN_DOCKER`, else `docker`), and
    /// to its API when `choice` asks for bollard (or `auto` finds no buildx).
    pub fn connect(docker: Option<PathBuf>, choice: BuilderChoice) -> Result<Self, String> {
        let engine = DockerCli::connect(docker.or_else(super::docker_bin))?;
        let bollard = match (choice, engine.has_buildx()) {
            (BuilderChoice::Cli, _) | (BuilderChoice::Auto, true) => None,
            (BuilderChoice::Bollard, _) | (BuilderChoice::Auto, false) => Some(BollardBuilder::connect()?),
        };
        Ok(Tools { engine, bollard })
    }

    /// The builder.
    pub fn builder(&self) -> &dyn Builder {
        match &self.bollard {
            Some(bollard) => bollard,
            None => &self.engine,
        }
    }

    /// The engine that inspects and runs images.
    pub fn engine(&self) -> &dyn Engine {
        &self.engine
    }
}

impl Options {
    /// The options a repository's configuration asks for, with harden's defaults for the rest
    /// (no network, a 15-minute build limit, a 3-second smoke run).
    pub fn from_config(config: VerifyConfig) -> Self {
        Options {
            build: BuildOptions {
                network: config.network.unwrap_or_else(|| "none".into()),
                build_args: config.build_args,
                secrets: config.secrets,
                target: config.target,
                platform: config.platform,
                timeout: Duration::from_secs(900),
            },
            smoke: Duration::from_secs(config.smoke_seconds.unwrap_or(3)),
            keep_images: false,
            registry: config.registry,
            cve_scanner: config.cve_scanner.unwrap_or_default(),
        }
    }
}
