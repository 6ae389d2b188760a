//! The learned part: a linear-chain CRF (CRFsuite model format, trained with the pure-Rust
//! `crfs` crate) that decides the type of tokens the rules are unsure about.
//!
//! The model file is read once into flat tables (attribute -> (label, weight) lists and a
//! transition matrix). Inference is our own forward-backward pass over those tables rather
//! than `crfs::Tagger`, because the review thresholds need per-token marginal probabilities,
//! not just the Viterbi path, and because feature strings can then be looked up from a reused
//! buffer without allocating.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::types::EntityType;

/// Label of tokens that are no entity.
pub const OUTSIDE: &str = "O";

/// The model shipped with the build: trained on the train split of the labelled set in
/// `crates/core/data/entities/` by `detector entities train`.
pub static EMBEDDED_MODEL: &[u8] = include_bytes!("../../models/entity.crfsuite");

/// Why a model file could not be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ModelError {
    #[error("not a CRFsuite model: {0}")]
    Format(String),
    #[error("model label `{0}` is not an entity type")]
    UnknownLabel(String),
}

/// FxHash: the attribute table is hit ~20 times per token, SipHash would dominate.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(a)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn write_u8(&mut self, i: u8) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        self.0 = (self.0.rotate_left(5) ^ u64::from(i)).wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FxBuild = BuildHasherDefault<FxHasher>;

/// A loaded model.
#[derive(Debug, Clone)]
pub struct CrfModel {
    /// Label id -> entity type (`None` for [`OUTSIDE`]).
    labels: Vec<Option<EntityType>>,
    /// Attribute name -> range in `state`.
    attrs: HashMap<Box<str>, (u32, u32), FxBuild>,
    /// (label id, weight) of every state feature, grouped by attribute.
    state: Vec<(u16, f32)>,
    /// exp(transition weight), row = previous label.
    trans_exp: Vec<f32>,
    /// Bytes of the file it was read from, for `model_info`.
    size: usize,
    /// Unique per load, so per-thread answer caches never mix two models.
    id: u64,
}

static NEXT_MODEL_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Produces the attribute names of item `t` by calling `emit` once per attribute.
pub type FeatureFn<'f> = dyn FnMut(usize, &mut dyn FnMut(&str)) + 'f;

/// Marginal probabilities for a sequence: `p[t * labels + l]`.
#[derive(Debug, Clone)]
pub struct Marginals {
    pub p: Vec<f32>,
    pub labels: usize,
}

impl Marginals {
    /// Best label at position `t` and its probability.
    pub fn best(&self, t: usize) -> (usize, f32) {
        let row = &self.p[t * self.labels..(t + 1) * self.labels];
        let mut best = (0, f32::MIN);
        for (i, &v) in row.iter().enumerate() {
            if v > best.1 {
                best = (i, v);
            }
        }
        best
    }

    /// Second-best label at `t` (for explanations).
    pub fn runner_up(&self, t: usize) -> (usize, f32) {
        let first = self.best(t).0;
        let row = &self.p[t * self.labels..(t + 1) * self.labels];
        let mut best = (0, f32::MIN);
        for (i, &v) in row.iter().enumerate() {
            if i != first && v > best.1 {
                best = (i, v);
            }
        }
        best
    }
}

fn u32_at(b: &[u8], i: usize) -> Result<u32, ModelError> {
    b.get(i..i + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or_else(|| ModelError::Format(format!("truncated at byte {i}")))
}

fn f64_at(b: &[u8], i: usize) -> Result<f64, ModelError> {
    b.get(i..i + 8)
        .and_then(|s| s.try_into().ok())
        .map(f64::from_le_bytes)
        .ok_or_else(|| ModelError::Format(format!("truncated at byte {i}")))
}

impl CrfModel {
    /// The embedded model, or `None` when the build carries none (a fresh checkout before the
    /// first `detector entities train`): extraction then runs on rules alone.
    pub fn embedded() -> Option<CrfModel> {
        CrfModel::from_bytes(EMBEDDED_MODEL).ok()
    }

    /// Reads a CRFsuite model. Never panics, whatever the bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<CrfModel, ModelError> {
        if bytes.len() < 48 || &bytes[..4] != b"lCRF" {
            return Err(ModelError::Format("bad magic or too short".into()));
        }
        if u32_at(bytes, 4)? as usize != bytes.len() {
            return Err(ModelError::Format(
                "size in header differs from file size".into(),
            ));
        }
        let num_features = u32_at(bytes, 16)? as usize;
        let num_labels = u32_at(bytes, 20)? as usize;
        let num_attrs = u32_at(bytes, 24)? as usize;
        let off_features = u32_at(bytes, 28)? as usize;
        if num_labels == 0 || num_labels > 1024 || num_features > bytes.len() / 20 {
            return Err(ModelError::Format("implausible header counts".into()));
        }
        // Names come from the two CQDB dictionaries, read through `crfs`. Its reader indexes
        // slices directly, so a corrupt file could panic inside it: contain that here.
        let names = std::panic::catch_unwind(|| -> Result<(Vec<String>, Vec<String>), String> {
            let m = crfs::Model::new(bytes).map_err(|e| e.to_string())?;
            if m.num_labels() as usize != num_labels || m.num_attrs() as usize != num_attrs {
                return Err("header disagrees with dictionaries".into());
            }
            let labels = (0..num_labels as u32)
                .map(|i| {
                    m.to_label(i)
                        .map(str::to_owned)
                        .ok_or("label id without name")
                })
                .collect::<Result<Vec<_>, _>>()?;
            let attrs = (0..num_attrs as u32)
                .map(|i| {
                    m.to_attr(i)
                        .map(str::to_owned)
                        .ok_or("attribute id without name")
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((labels, attrs))
        })
        .map_err(|_| ModelError::Format("corrupt dictionaries".into()))?
        .map_err(ModelError::Format)?;
        let (label_names, attr_names) = names;
        let labels = label_names
            .iter()
            .map(|n| {
                if n == OUTSIDE {
                    Ok(None)
                } else {
                    EntityType::from_name(n)
                        .map(Some)
                        .ok_or_else(|| ModelError::UnknownLabel(n.clone()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;

        if bytes.get(off_features..off_features + 4) != Some(b"FEAT".as_slice()) {
            return Err(ModelError::Format("feature chunk missing".into()));
        }
        let mut per_attr: Vec<Vec<(u16, f32)>> = vec![Vec::new(); num_attrs];
        let mut trans = vec![0f32; num_labels * num_labels];
        for f in 0..num_features {
            let at = off_features + 12 + 20 * f;
            let ftype = u32_at(bytes, at)?;
            let src = u32_at(bytes, at + 4)? as usize;
            let dst = u32_at(bytes, at + 8)? as usize;
            let w = f64_at(bytes, at + 12)? as f32;
            if dst >= num_labels {
                return Err(ModelError::Format(format!(
                    "feature {f} targets label {dst}"
                )));
            }
            match ftype {
                0 if src < num_attrs => per_attr[src].push((dst as u16, w)),
                1 if src < num_labels => trans[src * num_labels + dst] = w,
                _ => return Err(ModelError::Format(format!("feature {f} is malformed"))),
            }
        }
        let mut attrs = HashMap::with_capacity_and_hasher(num_attrs, FxBuild::default());
        let mut state = Vec::with_capacity(num_features);
        for (name, feats) in attr_names.into_iter().zip(per_attr) {
            let start = state.len() as u32;
            state.extend(feats);
            attrs.insert(name.into_boxed_str(), (start, state.len() as u32 - start));
        }
        Ok(CrfModel {
            labels,
            attrs,
            state,
            trans_exp: trans.iter().map(|w| w.exp()).collect(),
            size: bytes.len(),
            id: NEXT_MODEL_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        })
    }

    pub fn num_labels(&self) -> usize {
        self.labels.len()
    }

    pub fn num_attrs(&self) -> usize {
        self.attrs.len()
    }

    pub fn file_size(&self) -> usize {
        self.size
    }

    /// Identity of this loaded model (distinct for every load).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The entity type of a label id (`None` for the outside label or an unknown id).
    pub fn label(&self, id: usize) -> Option<EntityType> {
        self.labels.get(id).copied().flatten()
    }

    /// Marginal label probabilities for a sequence of `len` items whose attributes are
    /// produced by `features(t, emit)`.
    pub fn marginals(&self, len: usize, features: &mut FeatureFn<'_>) -> Marginals {
        let l = self.labels.len();
        let mut score = vec![0f32; len * l];
        for t in 0..len {
            let row = &mut score[t * l..(t + 1) * l];
            features(t, &mut |name: &str| {
                if let Some(&(s, n)) = self.attrs.get(name) {
                    for &(label, w) in &self.state[s as usize..(s + n) as usize] {
                        if let Some(x) = row.get_mut(label as usize) {
                            *x += w;
                        }
                    }
                }
            });
        }
        // exp(state) with the row max removed (scaling cancels in the marginals).
        for t in 0..len {
            let row = &mut score[t * l..(t + 1) * l];
            let m = row.iter().copied().fold(f32::MIN, f32::max);
            for x in row.iter_mut() {
                *x = (*x - m).exp();
            }
        }
        let mut alpha = vec![0f32; len * l];
        let mut beta = vec![1f32; len * l];
        alpha[..l].copy_from_slice(&score[..l]);
        normalize(&mut alpha[..l]);
        for t in 1..len {
            let (prev, cur) = alpha.split_at_mut(t * l);
            let prev = &prev[(t - 1) * l..];
            let cur = &mut cur[..l];
            for (j, c) in cur.iter_mut().enumerate() {
                let mut s = 0f32;
                for (i, p) in prev.iter().enumerate() {
                    s += p * self.trans_exp[i * l + j];
                }
                *c = s * score[t * l + j];
            }
            normalize(cur);
        }
        for t in (0..len.saturating_sub(1)).rev() {
            let (cur, next) = beta.split_at_mut((t + 1) * l);
            let cur = &mut cur[t * l..];
            let next = &next[..l];
            for (i, c) in cur.iter_mut().enumerate() {
                let mut s = 0f32;
                for (j, n) in next.iter().enumerate() {
                    s += self.trans_exp[i * l + j] * score[(t + 1) * l + j] * n;
                }
                *c = s;
            }
            normalize(cur);
        }
        let mut p = alpha;
        for (x, b) in p.iter_mut().zip(&beta) {
            *x *= b;
        }
        for t in 0..len {
            normalize(&mut p[t * l..(t + 1) * l]);
        }
        Marginals { p, labels: l }
    }
}

fn normalize(v: &mut [f32]) {
    let s: f32 = v.iter().sum();
    if s > 0.0 && s.is_finite() {
        for x in v.iter_mut() {
            *x /= s;
        }
    } else {
        let u = 1.0 / v.len().max(1) as f32;
        v.iter_mut().for_each(|x| *x = u);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(CrfModel::from_bytes(b"").is_err());
        assert!(CrfModel::from_bytes(&[0u8; 100]).is_err());
        let mut fake = b"lCRF".to_vec();
        fake.extend([0xffu8; 60]);
        assert!(CrfModel::from_bytes(&fake).is_err());
        if EMBEDDED_MODEL.len() > 64 {
            for cut in [48, 64, EMBEDDED_MODEL.len() / 2, EMBEDDED_MODEL.len() - 1] {
                assert!(
                    CrfModel::from_bytes(&EMBEDDED_MODEL[..cut]).is_err(),
                    "cut {cut}"
                );
            }
            let mut flipped = EMBEDDED_MODEL.to_vec();
            for i in (60..flipped.len()).step_by(97) {
                flipped[i] ^= 0x5a;
            }
            let _ = CrfModel::from_bytes(&flipped);
        }
    }

    #[test]
    fn fx_hasher_is_deterministic() {
        let h = |s: &str| {
            let mut x = FxHasher::default();
            x.write(s.as_bytes());
            x.finish()
        };
        assert_eq!(h("abc"), h("abc"));
        assert_ne!(h("abc"), h("abd"));
    }
}
