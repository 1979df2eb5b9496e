//! Leader election on a Lease (kube-lease-manager), so two replicas are safe:
//! only the holder runs the controllers.

use std::time::Duration;

use kube::Client;
use kube_lease_manager::{LeaseManager, LeaseManagerBuilder};
use tokio::sync::watch::Receiver;
use tokio::task::JoinHandle;

use super::context::{Error, Settings, Shutdown};

/// Default lease duration (`--lease-duration-seconds`); a standby takes
/// over at most this long after the leader stops renewing.
pub const LEASE_SECONDS: u64 = 15;
/// Default renewal margin before the lease ends (`--lease-renew-grace-seconds`).
pub const GRACE_SECONDS: u64 = 5;

/// Longest wait for the lease to be released on shutdown: a standby takes
/// it over at once instead of after [`LEASE_SECONDS`], and the process still
/// exits promptly when the API server does not answer.
pub const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);

/// Held leadership; [`Leadership::wait`] resolves when it is lost.
pub struct Leadership {
    state: Receiver<bool>,
    task: JoinHandle<Result<LeaseManager, kube_lease_manager::LeaseManagerError>>,
}

impl Leadership {
    pub async fn wait(&mut self) {
        let _ = self.state.wait_for(|leader| !*leader).await;
    }

    /// Gives the lease up: closing the state channel makes the manager's
    /// task release the lease and end; it is awaited, within [`RELEASE_TIMEOUT`].
    pub async fn release(self) {
        let Leadership { state, task } = self;
        drop(state);
        match tokio::time::timeout(RELEASE_TIMEOUT, task).await {
            Ok(Ok(Ok(_))) => tracing::info!("released the leader lease"),
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "could not release the leader lease"),
            Ok(Err(e)) => tracing::warn!(error = %e, "the lease task failed"),
            Err(_) => {
                tracing::warn!("the leader lease was not released in time; it expires by itself")
            }
        }
    }
}

/// Waits until this replica holds the lease (`Some`) or shutdown comes first (`None`).
pub async fn acquire(
    client: Client,
    settings: &Settings,
    shutdown: Shutdown,
) -> Result<Option<Leadership>, Error> {
    let manager = LeaseManagerBuilder::new(client, &settings.lease_name)
        .with_namespace(&settings.namespace)
        .with_identity(&settings.identity)
        .with_duration(settings.lease_duration_seconds)
        .with_grace(settings.lease_renew_grace_seconds)
        .build()
        .await
        .map_err(|e| Error::Lease(e.to_string()))?;
    let (mut state, task) = manager.watch().await;
    tracing::info!(lease = %settings.lease_name, identity = %settings.identity, "waiting for the leader lease");
    tokio::select! {
        changed = state.wait_for(|leader| *leader) => {
            if changed.is_err() {
                return Err(Error::Lease("lease manager stopped".into()));
            }
        }
        _ = shutdown.wait() => {
            task.abort();
            return Ok(None);
        }
    }
    tracing::info!("became leader");
    // The task keeps renewing for as long as `state` is alive.
    Ok(Some(Leadership { state, task }))
}
