//! The audit log's chain (issue 14): each organisation's administrative and
//! security actions form one append-only sequence in which every entry
//! carries the hash of the one before. Editing, removing or reordering an
//! entry breaks the chain at that entry; removing the newest entries is
//! seen against the chain's head, which is kept apart from the entries.
//! Free of SQL: the store supplies entries in order, this checks them.

use crate::clock::UnixTime;
use crate::ids::OrganisationId;
use crate::store::AdminEvent;
use sha2::{Digest, Sha256};
use std::fmt;

/// An entry as stored: the event, its place in the chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub event: AdminEvent,
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
}

/// The newest entry's place and hash, stored apart from the entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

/// Where a chain starts: bound to the organisation, so one organisation's
/// entries cannot be passed off as another's.
#[must_use]
pub fn genesis(org: &OrganisationId) -> String {
    hex(&Sha256::digest(
        [
            b"portvakt audit log v1\0".as_slice(),
            org.as_str().as_bytes(),
        ]
        .concat(),
    ))
}

/// The hash of an entry: every field, each length-prefixed so no two
/// different entries encode alike, and the previous entry's hash.
#[must_use]
pub fn entry_hash(prev_hash: &str, seq: i64, e: &AdminEvent) -> String {
    let mut h = Sha256::new();
    let mut field = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    field(b"portvakt audit entry v1");
    field(prev_hash.as_bytes());
    field(&seq.to_be_bytes());
    field(e.organisation_id.as_str().as_bytes());
    field(e.id.as_str().as_bytes());
    field(e.actor_id.as_str().as_bytes());
    field(&e.at.to_be_bytes());
    field(e.ip.as_bytes());
    field(e.user_agent.as_bytes());
    field(e.action.as_bytes());
    field(e.target.as_bytes());
    field(e.result.as_str().as_bytes());
    field(e.detail.as_bytes());
    hex(&h.finalize())
}

/// Links `event` after `head` (or at the start of the chain).
#[must_use]
pub fn link(org: &OrganisationId, head: Option<&ChainHead>, event: AdminEvent) -> AuditEntry {
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash.clone()),
        None => (1, genesis(org)),
    };
    let hash = entry_hash(&prev_hash, seq, &event);
    AuditEntry {
        event,
        seq,
        prev_hash,
        hash,
    }
}

fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    b.iter().fold(String::with_capacity(64), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

/// What is wrong with a chain, at the first entry where it shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The entry's content no longer gives its hash: edited (or another
    /// entry's content moved into its place).
    Edited { seq: i64, at: UnixTime },
    /// The entry does not follow the one before it: entries between them
    /// were removed, or the entries were reordered.
    Unlinked {
        seq: i64,
        at: UnixTime,
        expected_seq: i64,
    },
    /// The chain ends before its head: the newest entries were removed.
    TailRemoved { last_seq: i64, head_seq: i64 },
    /// Entries exist beyond the head, or the head's hash is not the last
    /// entry's: the head or the newest entries were changed.
    HeadMismatch { head_seq: i64 },
    /// Entries without a head.
    NoHead,
}

impl Break {
    /// The first entry that is not as written, if it is one entry.
    #[must_use]
    pub fn seq(&self) -> Option<i64> {
        match self {
            Break::Edited { seq, .. } | Break::Unlinked { seq, .. } => Some(*seq),
            Break::TailRemoved { last_seq, .. } => Some(last_seq + 1),
            Break::HeadMismatch { head_seq } => Some(*head_seq),
            Break::NoHead => None,
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // UTC RFC 3339, as logs and APIs write times.
        let when = |at: &UnixTime| {
            jiff::Timestamp::from_second(*at).map_or_else(|_| at.to_string(), |t| t.to_string())
        };
        match self {
            Break::Edited { seq, at } => write!(
                f,
                "entry {seq} (recorded as {}) was changed: its content does not give its hash",
                when(at)
            ),
            Break::Unlinked {
                seq,
                at,
                expected_seq,
            } => write!(
                f,
                "entry {seq} (recorded as {}) does not follow entry {}: entries were removed or reordered",
                when(at),
                expected_seq - 1
            ),
            Break::TailRemoved { last_seq, head_seq } => write!(
                f,
                "entries {} to {head_seq} were removed: the log ends at entry {last_seq}",
                last_seq + 1
            ),
            Break::HeadMismatch { head_seq } => write!(
                f,
                "the newest entries do not match the chain's head (entry {head_seq})"
            ),
            Break::NoHead => write!(f, "there are entries but the chain's head is missing"),
        }
    }
}

/// Checks a chain, fed in pages in order of `seq`.
pub struct Verifier {
    prev_hash: String,
    next_seq: i64,
    last_at: UnixTime,
    pub checked: u64,
}

impl Verifier {
    #[must_use]
    pub fn new(org: &OrganisationId) -> Self {
        Self {
            prev_hash: genesis(org),
            next_seq: 1,
            last_at: 0,
            checked: 0,
        }
    }

    /// The next entry.
    ///
    /// # Errors
    /// The first break, at this entry.
    pub fn feed(&mut self, e: &AuditEntry) -> Result<(), Break> {
        if e.seq != self.next_seq || e.prev_hash != self.prev_hash {
            return Err(Break::Unlinked {
                seq: e.seq,
                at: e.event.at,
                expected_seq: self.next_seq,
            });
        }
        if entry_hash(&e.prev_hash, e.seq, &e.event) != e.hash {
            return Err(Break::Edited {
                seq: e.seq,
                at: e.event.at,
            });
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_seq += 1;
        self.last_at = e.event.at;
        self.checked += 1;
        Ok(())
    }

    /// After the last entry: the chain must end where its head says.
    ///
    /// # Errors
    /// Removed newest entries, or a head that does not match.
    pub fn finish(self, head: Option<&ChainHead>) -> Result<u64, Break> {
        let last = self.next_seq - 1;
        match head {
            None if last == 0 => Ok(0),
            None => Err(Break::NoHead),
            Some(h) if h.seq > last => Err(Break::TailRemoved {
                last_seq: last,
                head_seq: h.seq,
            }),
            Some(h) if h.seq < last || h.hash != self.prev_hash => {
                Err(Break::HeadMismatch { head_seq: h.seq })
            }
            Some(_) => Ok(self.checked),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{EventId, UserId};
    use crate::store::EventResult;

    fn event(i: i64) -> AdminEvent {
        AdminEvent {
            id: EventId::from_raw(format!("evt_{i}")),
            organisation_id: OrganisationId::from_raw("org_a"),
            actor_id: UserId::from_raw("usr_1"),
            at: 1_800_000_000 + i,
            ip: "192.0.2.1".into(),
            user_agent: "UA".into(),
            action: "user.unlock".into(),
            target: format!("usr_{i}"),
            result: EventResult::Success,
            detail: "ok".into(),
        }
    }

    fn chain(n: i64) -> (Vec<AuditEntry>, ChainHead) {
        let org = OrganisationId::from_raw("org_a");
        let mut head = None;
        let mut out = Vec::new();
        for i in 1..=n {
            let e = link(&org, head.as_ref(), event(i));
            head = Some(ChainHead {
                seq: e.seq,
                hash: e.hash.clone(),
            });
            out.push(e);
        }
        (out, head.unwrap())
    }

    fn verify(entries: &[AuditEntry], head: Option<&ChainHead>) -> Result<u64, Break> {
        let mut v = Verifier::new(&OrganisationId::from_raw("org_a"));
        for e in entries {
            v.feed(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (c, h) = chain(5);
        assert_eq!(verify(&c, Some(&h)), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn edits_removals_swaps_and_a_cut_tail_are_named() {
        let (c, h) = chain(5);
        let mut edited = c.clone();
        edited[2].event.detail = "changed".into();
        assert_eq!(verify(&edited, Some(&h)).unwrap_err().seq(), Some(3));

        let mut removed = c.clone();
        removed.remove(1);
        assert_eq!(verify(&removed, Some(&h)).unwrap_err().seq(), Some(3));

        // Two entries' contents swapped, each keeping its place.
        let mut swapped = c.clone();
        let (a, b) = (swapped[1].event.clone(), swapped[2].event.clone());
        swapped[1].event = b;
        swapped[2].event = a;
        assert_eq!(verify(&swapped, Some(&h)).unwrap_err().seq(), Some(2));

        // Two whole entries swapped (read in seq order, so seen as unlinked).
        let mut reordered = c.clone();
        reordered.swap(1, 2);
        assert_eq!(verify(&reordered, Some(&h)).unwrap_err().seq(), Some(3));

        let mut cut = c.clone();
        cut.pop();
        assert_eq!(
            verify(&cut, Some(&h)),
            Err(Break::TailRemoved {
                last_seq: 4,
                head_seq: 5
            })
        );
        assert_eq!(verify(&c, None), Err(Break::NoHead));
    }

    #[test]
    fn another_organisations_chain_does_not_verify_here() {
        let (c, h) = chain(2);
        let mut v = Verifier::new(&OrganisationId::from_raw("org_b"));
        assert!(v.feed(&c[0]).is_err());
        let _ = h;
    }
}
