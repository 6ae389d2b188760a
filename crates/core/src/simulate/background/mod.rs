//! Background activity: what the organization does when nobody attacks it. Generated one
//! (account, hour) at a time from seeds derived from that pair, so any hour can be produced
//! alone and the output does not depend on chunking or threads.

pub(crate) mod cicd;
pub(crate) mod humans;
mod network;
mod ops;
pub(crate) mod platform;
pub(crate) mod storage;
pub(crate) mod workloads;

use super::Simulation;
use super::ct::CtCall;
use super::emit::{Out, Tag};
use super::flow::FlowRec;
use super::org::Org;
use super::rng::{SimRng, rng_for, tag};
use super::s3log::S3Req;

/// Generation context for one account and one hour.
pub(crate) struct Gen<'a> {
    pub sim: &'a Simulation,
    pub org: &'a Org,
    pub out: &'a mut dyn Out,
    pub scratch: Vec<u8>,
    pub account: usize,
    /// Simulation day index of this hour.
    pub day: i64,
    /// Start of the hour, ms since the epoch.
    pub hour_ms: i64,
    pub scale: f64,
}

impl Gen<'_> {
    /// A generator for one actor in this hour.
    pub(crate) fn rng(&self, tags: &[u64]) -> SimRng {
        let mut path = vec![tag("bg"), self.account as u64, self.hour_ms as u64];
        path.extend_from_slice(tags);
        rng_for(self.sim.cfg.seed, &path)
    }

    /// UTC hour of day of this hour.
    pub(crate) fn utc_hour(&self) -> i64 {
        self.hour_ms.rem_euclid(super::clock::DAY) / super::clock::HOUR
    }

    /// Renders a CloudTrail record into this account's trail.
    pub(crate) fn ct(&mut self, r: &mut SimRng, call: &CtCall<'_>, tag: Tag) -> String {
        self.scratch.clear();
        let id = call.render(r, &mut self.scratch);
        self.out.ct(
            self.account,
            call.region,
            call.time_ms,
            id.clone(),
            &self.scratch,
            tag,
        );
        id
    }

    pub(crate) fn s3(&mut self, r: &mut SimRng, bucket: usize, req: &S3Req<'_>, tag: Tag) {
        self.scratch.clear();
        req.render(r, &mut self.scratch);
        self.out.s3(bucket, req.time_ms, &self.scratch, tag);
    }

    pub(crate) fn flow(&mut self, rec: FlowRec) {
        self.out.flow(rec, None);
    }

    /// Scenario tag of a background feature that is labelled today (benign look-alikes that
    /// are part of normal operations, such as the scanner's sweep).
    pub(crate) fn bg_tag(&self, feature: super::scenarios::BgFeature) -> Tag {
        self.sim
            .bg_tags
            .iter()
            .find(|(f, d, _)| *f == feature && *d == self.day)
            .map(|(_, _, t)| *t)
    }
}

/// Generates every background record of one account for one hour.
pub(crate) fn hour(g: &mut Gen<'_>) {
    humans::hour(g);
    workloads::hour(g);
    platform::hour(g);
    storage::hour(g);
    network::hour(g);
}
