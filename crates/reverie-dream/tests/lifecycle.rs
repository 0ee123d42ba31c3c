//! A dream's lifecycle around its result: review (approve, reject, and approving after the
//! store moved), revert, cancel, one `update_existing` dream at a time, runners that die, and
//! the contract's refusals.

mod common;

use std::sync::Arc;

use common::scripted::{Meddle, Scripted, cand};
use common::*;
use reverie_core::ErrorType;
use reverie_core::curation::{EntryKind, EntryState};
use reverie_core::dream::{DreamStatus, ReviewState, error_kind};
use reverie_core::session::OutcomeStatus;
use reverie_store::Store;

on_both_backends!(
    a_proposal_waits_for_a_decision,
    approving_after_the_store_moved,
    revert_restores_what_the_dream_changed_and_nothing_else,
    cancel_stops_a_dream_and_changes_nothing,
    one_update_dream_at_a_time,
    a_dead_runner_is_noticed,
    finished_dreams_refuse_what_the_contract_refuses,
    metadata_follows_an_edited_entry,
    counters_follow_outcomes,
    recalled_entries_count_by_their_sessions_outcome,
    a_full_store_fails_the_dream_by_name,
    a_changeset_read_before_a_decision_is_read_anew_after_it,
    a_kept_drift_report_is_reused_only_while_the_store_reads_the_same,
);

const NOTES: &str = "# Notes\n\n- The staging database is on port 5432.\n- Deploys go through `./scripts/deploy.sh`.\n";

async fn setup(s: &Arc<dyn Store>) -> (String, String) {
    let store = new_store(s.as_ref(), "l").await;
    put(s.as_ref(), &store, "/notes.md", NOTES).await;
    let sid = session(s.as_ref(), &store, "a", 3, &[Turn::User("x")], None).await;
    (store, sid)
}

fn moved(sid: &str) -> Scripted {
    Scripted::new(vec![cand(
        EntryKind::Fact,
        "The staging database is on port 6543.",
        "/notes.md",
        sid,
        0,
        3,
    )])
}

async fn a_proposal_waits_for_a_decision(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let before = snapshot(s.as_ref(), &store).await;
    let r = scripted(&s, moved(&sid));
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, true))
        .await
        .unwrap();
    assert_eq!(d.review.as_ref().unwrap().state, ReviewState::Pending);
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed);
    assert!(
        d.outputs.is_empty() && d.applied_revision.is_none(),
        "{d:?}"
    );
    assert_eq!(
        snapshot(s.as_ref(), &store).await,
        before,
        "a proposal changes nothing"
    );
    let proposal = s.dream_proposal(&d.id).await.unwrap().unwrap();
    assert!(
        proposal
            .writes
            .iter()
            .any(|w| w.content.as_deref().is_some_and(|c| c.contains("6543")))
    );

    // Reject: nothing changes, and the decision is final.
    let rejected = s.decide_dream(&d.id, false, &user()).await.unwrap();
    assert_eq!(
        rejected.review.as_ref().unwrap().state,
        ReviewState::Rejected
    );
    assert_eq!(snapshot(s.as_ref(), &store).await, before);
    let again = s.decide_dream(&d.id, true, &user()).await.unwrap_err();
    assert!(again.to_string().contains("already rejected"), "{again}");

    // Approve another: applied as one revision, by the dream, approved by the user.
    let r = scripted(&s, moved(&sid));
    let d = r.create(request(&store, &[sid], true, true)).await.unwrap();
    let d = r.run(&d.id).await.unwrap();
    let approved = s.decide_dream(&d.id, true, &user()).await.unwrap();
    let review = approved.review.unwrap();
    assert_eq!(review.state, ReviewState::Approved);
    assert_eq!(review.decided_by, Some(user()));
    assert_eq!(approved.outputs[0].memory_store_id, store);
    assert!(contents(s.as_ref(), &store).await["/notes.md"].contains("port 6543"));
    // The policy's review setting is the default when a request does not say.
    let mut p = s.get_policy(&store).await.unwrap();
    p.review = true;
    s.set_policy(&store, &p).await.unwrap();
    let sid2 = session(s.as_ref(), &store, "b", 4, &[Turn::User("x")], None).await;
    let mut req = request(&store, &[sid2], true, false);
    req.review = None;
    let d = r.create(req).await.unwrap();
    assert_eq!(d.review.unwrap().state, ReviewState::Pending);
}

/// The store keeps parsed changesets for the next reader (drift and the curve read them all
/// per report): approving some operations of a proposal replaces its changeset, and a reader
/// that read it before must now get the new one, not the one it kept.
async fn a_changeset_read_before_a_decision_is_read_anew_after_it(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let two = Scripted::new(vec![
        cand(
            EntryKind::Fact,
            "The staging database is on port 6543.",
            "/notes.md",
            &sid,
            0,
            3,
        ),
        cand(
            EntryKind::Fact,
            "Releases are tagged from the main branch.",
            "/notes.md",
            &sid,
            1,
            3,
        ),
    ]);
    let r = scripted(&s, two);
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, true))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    let ids = [d.id.clone()];
    let proposed = s.dream_changesets(&ids).await.unwrap()[0].clone().unwrap();
    let pending = reverie_dream::review::pending(s.as_ref(), &d.id)
        .await
        .unwrap();
    assert!(pending.decidable.len() >= 2, "{:?}", proposed.ops);
    let keep = std::collections::BTreeSet::from([pending.decidable[0]]);
    reverie_dream::review::approve_operations(s.as_ref(), &d.id, &keep, &user())
        .await
        .unwrap();
    let stored = s.dream_changeset(&d.id).await.unwrap().unwrap();
    assert_ne!(
        *proposed, stored,
        "approving one operation changed the changeset"
    );
    let read = s.dream_changesets(&ids).await.unwrap()[0].clone().unwrap();
    assert_eq!(*read, stored, "the kept changeset was read anew");
    // And read again, it is the same (now from the cache).
    let again = s.dream_changesets(&ids).await.unwrap()[0].clone().unwrap();
    assert_eq!(*again, stored);
}

/// The review page's server keeps its last drift reports: one is served again while every
/// input reads back the same, and a change no store revision records (a pin) or another
/// question (`min_helpful`) gets a new report, equal to one computed afresh.
async fn a_kept_drift_report_is_reused_only_while_the_store_reads_the_same(s: Arc<dyn Store>) {
    use reverie_dream::drift::{DEFAULT_MIN_HELPFUL, Memo, report, report_memo};
    let (store, sid) = setup(&s).await;
    let d = dream_scripted(&s, &store, &sid, moved(&sid)).await;
    assert_eq!(d.status, DreamStatus::Completed);
    let st = s.get_store(&store).await.unwrap();
    let memo = Memo::default();
    let fresh = |min_helpful| {
        let (s, st) = (s.clone(), st.clone());
        async move { report(s.as_ref(), &st, None, min_helpful).await.unwrap() }
    };
    let kept = |min_helpful| {
        let (s, st, memo) = (s.clone(), st.clone(), &memo);
        async move {
            report_memo(s.as_ref(), &st, None, min_helpful, memo)
                .await
                .unwrap()
        }
    };
    let first = kept(DEFAULT_MIN_HELPFUL).await;
    assert_eq!(*first, fresh(DEFAULT_MIN_HELPFUL).await);
    let again = kept(DEFAULT_MIN_HELPFUL).await;
    assert!(
        Arc::ptr_eq(&first, &again),
        "nothing changed: the kept report"
    );

    let entry = s
        .list_entries(&store, None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.state == EntryState::Live && e.text.contains("6543"))
        .expect("the dream's entry");
    s.pin_entry(&store, &entry.id, true).await.unwrap();
    let pinned = kept(DEFAULT_MIN_HELPFUL).await;
    assert!(!Arc::ptr_eq(&first, &pinned), "a pin is a change");
    assert_eq!(*pinned, fresh(DEFAULT_MIN_HELPFUL).await);
    assert_ne!(*pinned, *first, "the pin shows in the report");

    let strict = kept(DEFAULT_MIN_HELPFUL + 4).await;
    assert_eq!(*strict, fresh(DEFAULT_MIN_HELPFUL + 4).await);
    assert!(
        Arc::ptr_eq(&kept(DEFAULT_MIN_HELPFUL).await, &pinned),
        "both questions kept"
    );
}

async fn approving_after_the_store_moved(s: Arc<dyn Store>) {
    // A write elsewhere: the approval lands on top of it.
    let (store, sid) = setup(&s).await;
    let r = scripted(&s, moved(&sid));
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, true))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    put(
        s.as_ref(),
        &store,
        "/later.md",
        "- written after the proposal\n",
    )
    .await;
    s.decide_dream(&d.id, true, &user()).await.unwrap();
    let after = contents(s.as_ref(), &store).await;
    assert_eq!(after["/later.md"], "- written after the proposal\n");
    assert!(after["/notes.md"].contains("6543"));

    // A write to what the proposal changes: refused cleanly, naming the memory; nothing changes.
    let (store, sid) = setup(&s).await;
    let d = r.create(request(&store, &[sid], true, true)).await.unwrap();
    let d = r.run(&d.id).await.unwrap();
    put(
        s.as_ref(),
        &store,
        "/notes.md",
        &format!("{NOTES}- A later note.\n"),
    )
    .await;
    let before = snapshot(s.as_ref(), &store).await;
    let err = s.decide_dream(&d.id, true, &user()).await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::Conflict, "{err}");
    assert!(
        err.to_string().contains("/notes.md") && err.to_string().contains("changed since"),
        "{err}"
    );
    assert_eq!(snapshot(s.as_ref(), &store).await, before);
    // Still pending: it can be rejected, or dreamed again.
    let d = s.get_dream(&d.id).await.unwrap();
    assert_eq!(d.review.unwrap().state, ReviewState::Pending);
}

async fn revert_restores_what_the_dream_changed_and_nothing_else(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let before = contents(s.as_ref(), &store).await;
    let entries_before = s.list_entries(&store, None).await.unwrap();
    let r = scripted(&s, moved(&sid));
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    // A later, unrelated write stays through the revert.
    put(s.as_ref(), &store, "/later.md", "- keep me\n").await;
    let reverted = s.revert_dream(&d.id, &user()).await.unwrap();
    let rev = reverted.reverted_revision.unwrap();
    assert!(rev > d.applied_revision.unwrap());
    let mut after = contents(s.as_ref(), &store).await;
    assert_eq!(after.remove("/later.md").as_deref(), Some("- keep me\n"));
    assert_eq!(after, before, "every memory the dream changed is as it was");
    assert_eq!(
        s.list_entries(&store, None).await.unwrap(),
        entries_before,
        "and so is the metadata"
    );
    let again = s.revert_dream(&d.id, &user()).await.unwrap_err();
    assert!(again.to_string().contains("already reverted"), "{again}");

    // A revert that would lose a later write to a memory the dream changed is refused.
    let (store, sid) = setup(&s).await;
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    let edited = format!(
        "{}- edited later\n",
        contents(s.as_ref(), &store).await["/notes.md"]
    );
    put(s.as_ref(), &store, "/notes.md", &edited).await;
    let err = s.revert_dream(&d.id, &user()).await.unwrap_err();
    assert!(
        err.to_string().contains("/notes.md") && err.to_string().contains("would lose that write"),
        "{err}"
    );
    assert_eq!(contents(s.as_ref(), &store).await["/notes.md"], edited);
}

async fn cancel_stops_a_dream_and_changes_nothing(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let before = snapshot(s.as_ref(), &store).await;
    // Canceled while pending: it never runs.
    let r = scripted(&s, moved(&sid));
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap();
    let c = s.cancel_dream(&d.id).await.unwrap();
    assert_eq!(c.status, DreamStatus::Canceled);
    assert!(c.ended_at.is_some());
    assert_eq!(
        s.cancel_dream(&d.id).await.unwrap().status,
        DreamStatus::Canceled,
        "idempotent"
    );
    let err = r.run(&d.id).await.unwrap_err();
    assert!(err.to_string().contains("not pending"), "{err}");

    // Canceled while running: the runner does not commit.
    let mut c = moved(&sid);
    c.meddle = Some(Meddle::Cancel { store: s.clone() });
    let r = scripted(&s, c);
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Canceled, "{d:?}");
    assert_eq!(snapshot(s.as_ref(), &store).await, before);
}

async fn one_update_dream_at_a_time(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let r = scripted(&s, moved(&sid));
    let first = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap();
    let err = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::Conflict);
    assert!(err.to_string().contains(&first.id), "{err}");
    // A create_new dream of the same store is no conflict.
    r.create(request(&store, std::slice::from_ref(&sid), false, false))
        .await
        .unwrap();
    // Once the first is done, the next may start.
    r.run(&first.id).await.unwrap();
    r.create(request(&store, &[sid], true, false))
        .await
        .unwrap();
}

async fn a_dead_runner_is_noticed(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let before = snapshot(s.as_ref(), &store).await;
    let r = runner(&s);
    let d = r
        .create(request(&store, &[sid], true, false))
        .await
        .unwrap();
    // A runner of this host whose process is gone (pid far above any real one).
    let host = r.name().rsplit_once(':').unwrap().0.to_string();
    s.claim_dream(&d.id, &format!("{host}:4194303999"))
        .await
        .unwrap();
    let lost = r.recover().await.unwrap();
    assert_eq!(lost.len(), 1);
    assert_eq!(lost[0].status, DreamStatus::Failed);
    assert_eq!(
        lost[0].error.as_ref().unwrap().kind,
        error_kind::RUNNER_LOST
    );
    assert_eq!(snapshot(s.as_ref(), &store).await, before);
    // A live runner's dream is left alone.
    let sid2 = session(s.as_ref(), &store, "b", 4, &[Turn::User("x")], None).await;
    let d = r
        .create(request(&store, &[sid2], true, false))
        .await
        .unwrap();
    s.claim_dream(&d.id, r.name()).await.unwrap();
    assert!(r.recover().await.unwrap().is_empty());
}

async fn finished_dreams_refuse_what_the_contract_refuses(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let r = scripted(&s, moved(&sid));
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap();
    let err = s.archive_dream(&d.id).await.unwrap_err();
    assert_eq!(
        err.error_type(),
        ErrorType::InvalidRequest,
        "archiving a pending dream: {err}"
    );
    let d = r.run(&d.id).await.unwrap();
    let err = s.cancel_dream(&d.id).await.unwrap_err();
    assert_eq!(
        err.error_type(),
        ErrorType::InvalidRequest,
        "canceling a completed dream: {err}"
    );
    let a = s.archive_dream(&d.id).await.unwrap();
    assert!(a.archived_at.is_some());
    assert_eq!(
        s.archive_dream(&d.id).await.unwrap().archived_at,
        a.archived_at,
        "unchanged"
    );
    // A session of another store is the workspace's: the store is dreamed over it, and the
    // other store's own dreams still have it to read. One that does not exist is not found.
    let other = new_store(s.as_ref(), "other").await;
    let foreign = session(
        s.as_ref(),
        &other,
        "f",
        1,
        &[Turn::User(
            "from now on, always run `cargo fmt --all` before committing",
        )],
        None,
    )
    .await;
    let d = r
        .create(request(
            &store,
            std::slice::from_ref(&foreign),
            false,
            false,
        ))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
    assert_eq!(d.session_ids(), std::slice::from_ref(&foreign));
    assert_eq!(
        reverie_dream::schedule::undreamed(s.as_ref(), &other)
            .await
            .unwrap(),
        std::slice::from_ref(&foreign),
        "still unread by the other store's dreams"
    );
    let err = r
        .create(request(&store, &["sesn_01nope".into()], true, false))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), ErrorType::NotFound);
    let err = s.get_dream("drm_01nope").await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::NotFound);
    let err = s.get_dream("mem_01nope").await.unwrap_err();
    assert_eq!(err.error_type(), ErrorType::InvalidRequest);
}

async fn metadata_follows_an_edited_entry(s: Arc<dyn Store>) {
    let (store, sid) = setup(&s).await;
    let r = scripted(
        &s,
        Scripted::new(vec![cand(
            EntryKind::Instruction,
            "Always run `cargo fmt --all` before committing.",
            "/notes.md",
            &sid,
            7,
            3,
        )]),
    );
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap();
    r.run(&d.id).await.unwrap();
    let entries = s
        .list_entries(&store, Some(EntryState::Live))
        .await
        .unwrap();
    let fmt = entries
        .iter()
        .find(|e| e.text.contains("cargo fmt"))
        .unwrap()
        .clone();
    assert_eq!(fmt.provenance[0].session_id, sid);

    // A person rewords it through the API; the next dream keeps its metadata with the new text.
    let notes = contents(s.as_ref(), &store).await["/notes.md"].clone();
    let edited = notes.replace("before committing.", "before every commit, in every crate.");
    assert_ne!(edited, notes);
    put(s.as_ref(), &store, "/notes.md", &edited).await;
    let sid2 = session(s.as_ref(), &store, "b", 4, &[Turn::User("x")], None).await;
    let r = scripted(&s, Scripted::new(Vec::new()));
    let d = r
        .create(request(&store, &[sid2], true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
    let after = s.get_entry(&store, &fmt.id).await.unwrap();
    assert_eq!(after.state, EntryState::Live);
    assert!(after.text.contains("every crate"), "{after:?}");
    assert_eq!(
        after.provenance, fmt.provenance,
        "the evidence stays with the edited entry"
    );
    assert_eq!(after.kind, EntryKind::Instruction);
}

async fn counters_follow_outcomes(s: Arc<dyn Store>) {
    let store = new_store(s.as_ref(), "c").await;
    // The index is read at the start of every session: its entries are served in each.
    put(
        s.as_ref(),
        &store,
        "/MEMORY.md",
        "# Memory\n\n- Deploys need two approvals.\n",
    )
    .await;
    let r = runner(&s);
    let mut expect = (0, 0, 0);
    for (day, outcome) in [
        (1, OutcomeStatus::Success),
        (2, OutcomeStatus::Failure),
        (3, OutcomeStatus::Partial),
    ] {
        let sid = session(
            s.as_ref(),
            &store,
            &format!("o{day}"),
            day,
            &[Turn::User("deploy it")],
            Some(outcome),
        )
        .await;
        let d = r
            .create(request(&store, &[sid], true, false))
            .await
            .unwrap();
        let d = r.run(&d.id).await.unwrap();
        assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
        expect.0 += 1;
        match outcome {
            OutcomeStatus::Success => expect.1 += 1,
            OutcomeStatus::Failure => expect.2 += 1,
            OutcomeStatus::Partial => {}
        }
        let e = s
            .list_entries(&store, Some(EntryState::Live))
            .await
            .unwrap()
            .into_iter()
            .find(|e| e.text.contains("two approvals"))
            .unwrap();
        assert_eq!(
            (e.served, e.helpful, e.harmful),
            expect,
            "after the {outcome:?} session"
        );
    }
}

/// An entry recall served in a session counts as helpful or harmful by the session's outcome
/// at the next dream — and its `served` counter, bumped when it was served, is not counted
/// again by the dream.
async fn recalled_entries_count_by_their_sessions_outcome(s: Arc<dyn Store>) {
    let store = new_store(s.as_ref(), "r").await;
    put(
        s.as_ref(),
        &store,
        "/notes.md",
        "# Notes\n\n- The staging database is on port 5432.\n- Deploys need two approvals.\n",
    )
    .await;
    let r = runner(&s);
    for (day, outcome, expect) in [
        (1, OutcomeStatus::Success, (2, 1, 0)),
        (2, OutcomeStatus::Failure, (4, 1, 1)),
    ] {
        let sid = session(
            s.as_ref(),
            &store,
            &format!("r{day}"),
            day,
            &[Turn::User("where is staging")],
            Some(outcome),
        )
        .await;
        // Served twice in the session: two servings, one session.
        for _ in 0..2 {
            let mut q = reverie_core::search::RecallQuery::new("staging database port");
            q.limit = 1;
            q.serve = Some(reverie_core::search::Via::Recall);
            q.session_id = Some(sid.clone());
            let found = s.recall(&store, &q).await.unwrap();
            assert_eq!(found.len(), 1);
            assert!(found[0].text.contains("5432"));
        }
        let d = r
            .create(request(&store, &[sid], true, false))
            .await
            .unwrap();
        let d = r.run(&d.id).await.unwrap();
        assert_eq!(d.status, DreamStatus::Completed, "{d:?}");
        let live = s
            .list_entries(&store, Some(EntryState::Live))
            .await
            .unwrap();
        let port = live.iter().find(|e| e.text.contains("5432")).unwrap();
        assert_eq!(
            (port.served, port.helpful, port.harmful),
            expect,
            "after the {outcome:?} session"
        );
        // The entry recall never served is not counted.
        let other = live
            .iter()
            .find(|e| e.text.contains("two approvals"))
            .unwrap();
        assert_eq!((other.served, other.helpful, other.harmful), (0, 0, 0));
    }
}

/// A dream whose output would pass the store's memory limit fails as `store_full`, naming the
/// limit and what to do, and changes nothing (it was reported as an internal error).
async fn a_full_store_fails_the_dream_by_name(s: Arc<dyn Store>) {
    let store = s
        .create_store(reverie_store::NewStore {
            name: "full".into(),
            max_memories: Some(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    put(s.as_ref(), &store, "/notes.md", NOTES).await;
    let sid = session(s.as_ref(), &store, "a", 1, &[Turn::User("x")], None).await;
    let before = snapshot(s.as_ref(), &store).await;
    let r = scripted(
        &s,
        Scripted::new(vec![cand(
            EntryKind::Lesson,
            "`cargo test` needs `DATABASE_URL`; the test database is on port 5433.",
            "/lessons.md",
            &sid,
            0,
            1,
        )]),
    );
    let d = r
        .create(request(&store, std::slice::from_ref(&sid), true, false))
        .await
        .unwrap();
    let d = r.run(&d.id).await.unwrap();
    assert_eq!(d.status, DreamStatus::Failed, "{d:?}");
    let e = d.error.unwrap();
    assert_eq!(e.kind, error_kind::STORE_FULL);
    assert!(e.message.contains("max_memories"), "{}", e.message);
    assert_eq!(snapshot(s.as_ref(), &store).await, before);
}
