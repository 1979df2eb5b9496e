//! Rule 1, "belongs elsewhere": a marketplace product is supported by its
//! publisher, a trial customer by the workspace's supporting partner. Such a
//! ticket is not this desk's: `Accepted=False`, phase `Redirected`, and a
//! `status.redirect` that tells the customer where to go. When the place to
//! send it does not exist, the ticket is rejected instead (`UnknownPublisher`,
//! `NoPartner`), since nobody could act on it.

use jiff::Timestamp;

use super::resolve::Rejection;
use crate::api::ticket::{Redirect, RedirectTarget, Subscription};
use crate::api::{TicketSpec, WorkspaceSpec};
use crate::catalog::{Catalog, supporting_partner};

/// The publisher check, then the trial check; `Ok` when the ticket is this
/// desk's. `start` is the clock start: a partner must be active then.
pub(crate) fn check(
    catalog: &Catalog,
    workspace: &WorkspaceSpec,
    spec: &TicketSpec,
    start: Timestamp,
) -> Result<(), Rejection> {
    if let Some(product) = &spec.product
        && let Some(name) = &product.publisher
    {
        let Some(publisher) = catalog.publisher(name) else {
            return Err(Rejection::new(
                "UnknownPublisher",
                format!(
                    "spec.product.publisher: product {:?} names Publisher {name:?}, which does not exist",
                    product.name
                ),
            ));
        };
        let shown = publisher.spec.display_name.as_deref().unwrap_or(name);
        return Err(Rejection::redirected(
            "RoutedToPublisher",
            format!(
                "product {:?} is a marketplace product supported by its publisher {shown}: contact them",
                product.name
            ),
            Redirect {
                to: RedirectTarget::Publisher,
                name: name.clone(),
                contact: Some(publisher.spec.contact.clone()),
            },
        ));
    }
    if spec.subscription == Some(Subscription::Trial) {
        let Some(partner) = supporting_partner(workspace, start) else {
            return Err(Rejection::new(
                "NoPartner",
                "spec.subscription: a trial is supported by the workspace's partner, and the workspace has no active direct or indirect provider among its delegatedAdmins",
            ));
        };
        return Err(Rejection::redirected(
            "RoutedToPartner",
            format!(
                "a trial subscription is supported by the workspace's partner {}: contact them",
                partner.partner
            ),
            Redirect {
                to: RedirectTarget::Partner,
                name: partner.partner.clone(),
                contact: partner.contact.clone(),
            },
        ));
    }
    Ok(())
}
