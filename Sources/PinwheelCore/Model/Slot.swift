/// One of the two slots every host keeps warm: releasing fills the idle one, rolling back switches back.
public enum Slot: String, Sendable, Hashable, Codable, CaseIterable, Comparable, CustomStringConvertible {
    case a = "A"
    case b = "B"

    /// The other slot: the idle one when `self` is active.
    public var other: Slot { self == .a ? .b : .a }

    public var description: String { rawValue }

    public static func < (lhs: Slot, rhs: Slot) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A value for each slot, such as a program's port or a slot's pins.
public struct PerSlot<Value: Sendable>: Sendable {
    public var a: Value
    public var b: Value

    public init(a: Value, b: Value) {
        self.a = a
        self.b = b
    }

    public subscript(slot: Slot) -> Value {
        get { slot == .a ? a : b }
        set {
            if slot == .a { a = newValue } else { b = newValue }
        }
    }
}

extension PerSlot: Equatable where Value: Equatable {}
extension PerSlot: Hashable where Value: Hashable {}

extension PerSlot: Codable where Value: Codable {
    private enum CodingKeys: String, CodingKey {
        case a = "A"
        case b = "B"
    }
}
