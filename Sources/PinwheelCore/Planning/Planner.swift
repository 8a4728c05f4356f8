/// Decides what a host needs: a pure function of the host's resolved desired state and what the host reported.
public enum Planner {
    public static func plan(_ target: HostTarget, observed: HostObservation) -> HostPlan {
        let active = target.active
        var plan = HostPlan(host: target.name)
        let activeSlot = target.slots[active]
        plan.activate = readySteps(for: activeSlot, observed: observed.slots[active])
        if !plan.activate.isEmpty || observed.routed != active || observed.routedFingerprint != activeSlot.fingerprint {
            plan.route = .route(active)
        }
        // A slot rebuilt in place while it serves keeps its upstream; the route step re-checks it through nginx.
        // Its processes restart, so that happens at the policy's pace (see `HostPlan.rebuildsServingSlot`), unless a
        // `beforeSwitch` hook must first run from the new build: then it is prepared before any switch, as a release.
        plan.rebuildsServingSlot = observed.routed == active && plan.activate.contains(.prepare(active))
            && target.hooks.beforeSwitch == nil
        plan.idle = readySteps(for: target.slots[active.other], observed: observed.slots[active.other])
        return plan
    }

    /// What makes a slot ready: prepared with the desired fingerprint, every process running, healthy.
    static func readySteps(for slot: ResolvedSlot, observed: SlotObservation) -> [HostPlan.Step] {
        let name = slot.spec.slot
        if observed.manifest?.fingerprint != slot.fingerprint {
            return [.prepare(name), .start(name), .check(name)]
        }
        if !observed.isRunning(slot.spec) || !observed.healthy {
            return [.start(name), .check(name)]
        }
        return []
    }
}
