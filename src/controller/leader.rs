//! Leader election on a Lease (kube-lease-manager), so two replicas are safe:
//! only the holder runs the controllers.

use kube::Client;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch::Receiver;

use super::context::{Error, Settings, Shutdown};

/// Lease duration; a standby takes over at most this long after the leader stops renewing.
pub const LEASE_SECONDS: u64 = 15;
const GRACE_SECONDS: u64 = 5;

/// Held leadership; [`Leadership::wait`] resolves when it is lost.
pub struct Leadership {
    state: Receiver<bool>,
}

impl Leadership {
    pub async fn wait(&mut self) {
        let _ = self.state.wait_for(|leader| !*leader).await;
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
        .with_duration(LEASE_SECONDS)
        .with_grace(GRACE_SECONDS)
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
    // Dropping the handle detaches the task: it keeps renewing for as long
    // as `state` is alive.
    drop(task);
    Ok(Some(Leadership { state }))
}
