import CGit2
public enum GitPlaceholder { public static func version() -> Int32 { var a: Int32 = 0, b: Int32 = 0, c: Int32 = 0; git_libgit2_version(&a, &b, &c); return a } }
