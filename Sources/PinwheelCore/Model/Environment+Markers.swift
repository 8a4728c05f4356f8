extension Environment {
    /// What Pinwheel knows about the hosts of `slot` for evaluating markers: Linux, and the version its `python:`
    /// names, if it names one.
    public func markerFacts(of slot: Slot) -> MarkerFacts {
        .linux(interpreter: python(of: slot))
    }
}
