import Mustache

// The host rows are most of a page with many hosts: Mustache reads their values through these lookups instead of
// reflection (Mirror), which is what rendering 200 hosts spends its time on otherwise.
extension StatusPageModel.Host: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "name": return self.name
        case "serving": return serving
        case "onActive": return onActive
        case "version": return version
        case "healthy": return healthy
        case "health": return health
        case "healthTone": return healthTone
        // nil: Mustache looks the name up in the enclosing objects, which have no `hostError`.
        case "hostError": return hostError
        default: return nil
        }
    }
}
