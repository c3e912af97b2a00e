//! The Docker Engine calls the sandbox makes, behind a trait so tests can record them.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;

use bollard::models::{ContainerCreateBody, FilesystemChange};
use bollard::query_parameters::{
    CreateContainerOptions, DownloadFromContainerOptions, KillContainerOptions,
    ListContainersOptions, LogsOptions, RemoveContainerOptions, StatsOptions,
};
use bollard::Docker;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};

use crate::error::SandboxError;
use crate::events::ChangeKind;

/// Image facts the sandbox needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageInfo {
    /// Image id (`sha256:...`).
    pub id: String,
    /// Entrypoint from the image config.
    pub entrypoint: Vec<String>,
    /// Command from the image config.
    pub cmd: Vec<String>,
    /// Exposed ports, as `80/tcp`.
    pub exposed_ports: Vec<String>,
    /// Declared VOLUME paths.
    pub volumes: Vec<String>,
    /// `USER` of the image config (`name`, `uid`, `name:group` or `uid:gid`); empty for root.
    pub user: String,
}

/// Container facts the sandbox needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContainerInfo {
    /// Host pid of the container's first process; 0 when it is not running.
    pub pid: u32,
    /// Whether the container is running.
    pub running: bool,
    /// Exit code once stopped.
    pub exit_code: Option<i64>,
    /// Whether the kernel's OOM killer ended it.
    pub oom_killed: bool,
    /// overlay2 upper directory on the host, when the storage driver is overlay2.
    pub upper_dir: Option<String>,
    /// overlay2 lower directories (colon-separated), when the storage driver is overlay2.
    pub lower_dir: Option<String>,
    /// Volume mounts as (path in the container, directory on the host).
    pub volume_mounts: Vec<(String, String)>,
}

/// A container listed by label.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListedContainer {
    /// Container id.
    pub id: String,
    /// Container labels.
    pub labels: HashMap<String, String>,
}

/// One point of the Engine's stats stream, with raw counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatsPoint {
    /// Total CPU time of the container in nanoseconds.
    pub cpu_total: u64,
    /// Host CPU time in nanoseconds (all cores).
    pub system_total: u64,
    /// Number of online CPUs.
    pub online_cpus: u32,
    /// Memory usage in bytes.
    pub memory: u64,
    /// Number of pids.
    pub pids: u64,
}

/// The Engine API calls the sandbox uses.
pub trait Engine: Send + Sync {
    /// Loads a docker-archive (`docker save` output) and returns the image names it tagged.
    fn load_image(
        &self,
        archive: &Path,
    ) -> impl Future<Output = Result<Vec<String>, SandboxError>> + Send;
    /// Loads a docker-archive stream (see [`crate::load`]) and returns the image names it
    /// tagged; `what` names the input in errors.
    fn load_image_stream(
        &self,
        what: &str,
        body: BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    ) -> impl Future<Output = Result<Vec<String>, SandboxError>> + Send;
    /// Removes an image by id or name without force, so an image that another name or a
    /// container still uses stays. An image that is already gone is not an error.
    fn remove_image(&self, name: &str) -> impl Future<Output = Result<(), SandboxError>> + Send;
    /// Lists the `NAME:TAG` names of local images whose repository starts with `prefix`.
    fn list_image_tags(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<String>, SandboxError>> + Send;
    /// Inspects an image.
    fn inspect_image(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<ImageInfo, SandboxError>> + Send;
    /// Lists the runtime names the daemon knows.
    fn runtimes(&self) -> impl Future<Output = Result<Vec<String>, SandboxError>> + Send;
    /// Creates a container and returns its id.
    fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> impl Future<Output = Result<String, SandboxError>> + Send;
    /// Starts a created container.
    fn start_container(&self, id: &str) -> impl Future<Output = Result<(), SandboxError>> + Send;
    /// Inspects a container.
    fn inspect_container(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<ContainerInfo, SandboxError>> + Send;
    /// Sends SIGKILL.
    fn kill_container(&self, id: &str) -> impl Future<Output = Result<(), SandboxError>> + Send;
    /// Removes a container with its anonymous volumes, forcing a stop.
    fn remove_container(&self, id: &str) -> impl Future<Output = Result<(), SandboxError>> + Send;
    /// Returns the Engine's change list.
    fn changes(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Vec<(String, ChangeKind)>, SandboxError>> + Send;
    /// Returns a tar of `path` from the container, failing when it exceeds `limit` bytes.
    fn archive(
        &self,
        id: &str,
        path: &str,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<u8>, SandboxError>> + Send;
    /// Returns stdout and stderr, each cut to `limit` bytes.
    fn logs(
        &self,
        id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<(Vec<u8>, Vec<u8>), SandboxError>> + Send;
    /// Lists all containers (running or not) that carry `label`.
    fn list_by_label(
        &self,
        label: &str,
    ) -> impl Future<Output = Result<Vec<ListedContainer>, SandboxError>> + Send;
    /// Streams stats points until the container stops.
    fn stats(&self, id: &str) -> BoxStream<'static, StatsPoint>;
}

/// [`Engine`] over the local Docker daemon with bollard.
#[derive(Debug, Clone)]
pub struct DockerEngine {
    docker: Docker,
}

impl DockerEngine {
    /// Connects to the local daemon (`DOCKER_HOST` or the default socket) and negotiates the
    /// API version, so an Engine older than bollard's default (Docker 20.10 speaks 1.41) works.
    pub async fn connect() -> Result<Self, SandboxError> {
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| SandboxError::engine("connect", e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| SandboxError::engine("negotiate the API version", e))?;
        Ok(DockerEngine { docker })
    }

    /// Returns the negotiated API version.
    pub fn api_version(&self) -> String {
        self.docker.client_version().to_string()
    }
}

impl Engine for DockerEngine {
    async fn load_image(&self, archive: &Path) -> Result<Vec<String>, SandboxError> {
        let file = tokio::fs::File::open(archive)
            .await
            .map_err(|e| SandboxError::io(archive, e))?;
        self.load_image_stream(&archive.display().to_string(), file_chunks(file).boxed())
            .await
    }

    async fn load_image_stream(
        &self,
        what: &str,
        stream: BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
    ) -> Result<Vec<String>, SandboxError> {
        let options = bollard::query_parameters::ImportImageOptions {
            quiet: true,
            ..Default::default()
        };
        let mut results = self.docker.import_image_stream(options, stream, None);
        let mut names = Vec::new();
        while let Some(item) = results.next().await {
            let info = item.map_err(|e| SandboxError::engine(&format!("load {what}"), e))?;
            if let Some(stream) = info.stream {
                for line in stream.lines() {
                    if let Some(name) = line.strip_prefix("Loaded image: ") {
                        names.push(name.trim().to_string());
                    } else if let Some(id) = line.strip_prefix("Loaded image ID: ") {
                        names.push(id.trim().to_string());
                    }
                }
            }
        }
        Ok(names)
    }

    async fn remove_image(&self, name: &str) -> Result<(), SandboxError> {
        let options = bollard::query_parameters::RemoveImageOptions {
            force: false,
            noprune: false,
            ..Default::default()
        };
        match self.docker.remove_image(name, Some(options), None).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(SandboxError::engine(&format!("remove image {name}"), e)),
        }
    }

    async fn list_image_tags(&self, prefix: &str) -> Result<Vec<String>, SandboxError> {
        let mut filters = HashMap::new();
        filters.insert("reference".to_string(), vec![format!("{prefix}*")]);
        let options = bollard::query_parameters::ListImagesOptions {
            filters: Some(filters),
            ..Default::default()
        };
        let images = self
            .docker
            .list_images(Some(options))
            .await
            .map_err(|e| SandboxError::engine(&format!("list images named {prefix}*"), e))?;
        Ok(images
            .into_iter()
            .flat_map(|i| i.repo_tags)
            .filter(|t| t.starts_with(prefix))
            .collect())
    }

    async fn inspect_image(&self, name: &str) -> Result<ImageInfo, SandboxError> {
        let image = self
            .docker
            .inspect_image(name)
            .await
            .map_err(|e| SandboxError::engine(&format!("inspect image {name}"), e))?;
        let config = image.config.unwrap_or_default();
        Ok(ImageInfo {
            id: image.id.unwrap_or_default(),
            entrypoint: config.entrypoint.unwrap_or_default(),
            cmd: config.cmd.unwrap_or_default(),
            exposed_ports: config.exposed_ports.unwrap_or_default(),
            volumes: config.volumes.unwrap_or_default(),
            user: config.user.unwrap_or_default(),
        })
    }

    async fn runtimes(&self) -> Result<Vec<String>, SandboxError> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| SandboxError::engine("read daemon info", e))?;
        Ok(info.runtimes.unwrap_or_default().into_keys().collect())
    }

    async fn create_container(
        &self,
        name: &str,
        body: ContainerCreateBody,
    ) -> Result<String, SandboxError> {
        let options = CreateContainerOptions {
            name: Some(name.to_string()),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| SandboxError::engine(&format!("create container {name}"), e))?;
        Ok(created.id)
    }

    async fn start_container(&self, id: &str) -> Result<(), SandboxError> {
        self.docker
            .start_container(id, None::<bollard::query_parameters::StartContainerOptions>)
            .await
            .map_err(|e| SandboxError::engine(&format!("start container {id}"), e))
    }

    async fn inspect_container(&self, id: &str) -> Result<ContainerInfo, SandboxError> {
        let c = self
            .docker
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .map_err(|e| SandboxError::engine(&format!("inspect container {id}"), e))?;
        let state = c.state.unwrap_or_default();
        let driver = c.graph_driver.unwrap_or_default();
        let data = if driver.name == "overlay2" {
            driver.data
        } else {
            HashMap::new()
        };
        Ok(ContainerInfo {
            pid: state.pid.unwrap_or(0).max(0) as u32,
            running: state.running.unwrap_or(false),
            exit_code: state.exit_code,
            oom_killed: state.oom_killed.unwrap_or(false),
            upper_dir: data.get("UpperDir").cloned(),
            lower_dir: data.get("LowerDir").cloned(),
            volume_mounts: c
                .mounts
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m.typ.as_deref() == Some("volume"))
                .filter_map(|m| Some((m.destination?, m.source?)))
                .collect(),
        })
    }

    async fn kill_container(&self, id: &str) -> Result<(), SandboxError> {
        let options = KillContainerOptions {
            signal: "SIGKILL".to_string(),
        };
        match self.docker.kill_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            // 409: the container is not running any more, which is what a kill wants.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(()),
            Err(e) => Err(SandboxError::engine(&format!("kill container {id}"), e)),
        }
    }

    async fn remove_container(&self, id: &str) -> Result<(), SandboxError> {
        let options = RemoveContainerOptions {
            v: true,
            force: true,
            link: false,
        };
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(SandboxError::engine(&format!("remove container {id}"), e)),
        }
    }

    async fn changes(&self, id: &str) -> Result<Vec<(String, ChangeKind)>, SandboxError> {
        let changes: Vec<FilesystemChange> = self
            .docker
            .container_changes(id)
            .await
            .map_err(|e| SandboxError::engine(&format!("read changes of {id}"), e))?
            .unwrap_or_default();
        Ok(changes
            .into_iter()
            .map(|c| {
                let kind = match c.kind {
                    bollard::models::ChangeType::_0 => ChangeKind::Changed,
                    bollard::models::ChangeType::_1 => ChangeKind::Added,
                    bollard::models::ChangeType::_2 => ChangeKind::Deleted,
                };
                (c.path, kind)
            })
            .collect())
    }

    async fn archive(&self, id: &str, path: &str, limit: u64) -> Result<Vec<u8>, SandboxError> {
        let options = DownloadFromContainerOptions {
            path: path.to_string(),
        };
        let mut stream = self.docker.download_from_container(id, Some(options));
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk
                .map_err(|e| SandboxError::engine(&format!("download {path} from {id}"), e))?;
            out.extend_from_slice(&chunk);
            if out.len() as u64 > limit {
                return Err(SandboxError::TooLarge {
                    path: path.to_string(),
                    limit,
                });
            }
        }
        Ok(out)
    }

    async fn logs(&self, id: &str, limit: usize) -> Result<(Vec<u8>, Vec<u8>), SandboxError> {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: "all".to_string(),
            ..Default::default()
        };
        let mut stream = self.docker.logs(id, Some(options));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        while let Some(item) = stream.next().await {
            match item.map_err(|e| SandboxError::engine(&format!("read logs of {id}"), e))? {
                bollard::container::LogOutput::StdErr { message } => {
                    if err.len() < limit {
                        err.extend_from_slice(&message);
                    }
                }
                other => {
                    if out.len() < limit {
                        out.extend_from_slice(&other.into_bytes());
                    }
                }
            }
        }
        out.truncate(limit);
        err.truncate(limit);
        Ok((out, err))
    }

    async fn list_by_label(&self, label: &str) -> Result<Vec<ListedContainer>, SandboxError> {
        let mut filters = HashMap::new();
        filters.insert("label".to_string(), vec![label.to_string()]);
        let options = ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| SandboxError::engine(&format!("list containers labelled {label}"), e))?;
        Ok(list
            .into_iter()
            .map(|c| ListedContainer {
                id: c.id.unwrap_or_default(),
                labels: c.labels.unwrap_or_default(),
            })
            .collect())
    }

    fn stats(&self, id: &str) -> BoxStream<'static, StatsPoint> {
        let options = StatsOptions {
            stream: true,
            one_shot: false,
        };
        self.docker
            .stats(id, Some(options))
            .into_stream()
            .take_while(|r| futures_util::future::ready(r.is_ok()))
            .filter_map(|r| async move { r.ok() })
            .map(|s| {
                let cpu = s.cpu_stats.unwrap_or_default();
                StatsPoint {
                    cpu_total: cpu.cpu_usage.and_then(|u| u.total_usage).unwrap_or(0),
                    system_total: cpu.system_cpu_usage.unwrap_or(0),
                    online_cpus: cpu.online_cpus.unwrap_or(1),
                    memory: s.memory_stats.and_then(|m| m.usage).unwrap_or(0),
                    pids: s.pids_stats.and_then(|p| p.current).unwrap_or(0),
                }
            })
            .boxed()
    }
}

/// Reads a file as a stream of byte chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}
