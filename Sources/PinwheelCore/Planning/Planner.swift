/// Decides what a host needs: a pure function of the desired state and what the host reported.
public enum Planner {
    public static func plan(_ desired: Environment, host: FleetHost, observed: HostObservation) -> HostPlan {
        let active = desired.active
        let idle = active.other
        var plan = HostPlan(host: host.name)

        let activeSpec = desired.slotSpec(active, on: host)
        plan.activate = readySteps(for: activeSpec, observed: observed.slots[active])
        if !plan.activate.isEmpty || observed.routed != active || observed.routedFingerprint != activeSpec.fingerprint {
            plan.route = .route(active)
        }
        // A slot rebuilt in place while it serves keeps its upstream; the route step re-checks it through nginx.
        let idleSpec = desired.slotSpec(idle, on: host)
        plan.idle = readySteps(for: idleSpec, observed: observed.slots[idle])
        return plan
    }

    /// What makes a slot ready: prepared with the desired fingerprint, every process running, healthy.
    static func readySteps(for spec: SlotSpec, observed: SlotObservation) -> [HostPlan.Step] {
        if observed.manifest?.fingerprint != spec.fingerprint {
            return [.prepare(spec.slot), .start(spec.slot), .check(spec.slot)]
        }
        if !observed.isRunning(spec) || !observed.healthy {
            return [.start(spec.slot), .check(spec.slot)]
        }
        return []
    }
}
