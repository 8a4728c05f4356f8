extension Pin {
    /// The pin's marker, parsed; nil when it has none. A slot file's markers were checked when it was read, so a
    /// marker that does not parse here came from elsewhere (a manifest) and is treated as undecided.
    public var markerExpression: Marker? {
        guard let marker else { return nil }
        return try? MarkerParser.parse(marker).get()
    }

    /// Whether a host described by `facts` installs this pin: true without a marker, nil when its marker depends on
    /// what `facts` do not know (pip decides on the host).
    public func applies(_ facts: MarkerFacts) -> Bool? {
        guard marker != nil else { return true }
        guard let expression = markerExpression else { return nil }
        return expression.evaluate(facts)
    }
}
