/// A bounded first-in first-out queue that never blocks its producer: when it is full, the oldest element makes
/// room for the new one, and the caller counts what was dropped. The controller's rollouts post into it and go on.
public struct DeliveryQueue<Element> {
    public let capacity: Int
    private var items: [Element] = []
    private var head = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public var count: Int { items.count - head }
    public var isEmpty: Bool { count == 0 }

    /// Appends `element`; returns the oldest element when the queue was full and dropped it.
    public mutating func push(_ element: Element) -> Element? {
        var dropped: Element?
        if count == capacity {
            dropped = items[head]
            head += 1
        }
        items.append(element)
        compact()
        return dropped
    }

    public mutating func pop() -> Element? {
        guard head < items.count else { return nil }
        let element = items[head]
        head += 1
        compact()
        return element
    }

    /// Drops the consumed prefix now and then, so the storage never grows past twice the capacity.
    private mutating func compact() {
        if head > capacity || (head > 0 && head == items.count) {
            items.removeFirst(head)
            head = 0
        }
    }
}
