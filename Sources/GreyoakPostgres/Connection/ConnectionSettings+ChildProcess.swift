internal import CLibPQ
import Foundation

extension ConnectionSettings {
    /// The environment for a libpq client program (`pg_dump`, `pg_restore`) that should
    /// connect where these settings do.
    ///
    /// Every parameter of the URL or conninfo string travels as its `PG*` variable
    /// (`PGHOST`, `PGPASSWORD`, `PGSSLMODE`…, libpq's own mapping), not on the command
    /// line, where any user could read a password in `ps`.
    public func childEnvironment(_ base: [String: String] = ProcessInfo.processInfo.environment) -> [String: String] {
        var environment = base
        environment["PGAPPNAME"] = applicationName
        guard !conninfo.isEmpty, let parsed = PQconninfoParse(conninfo, nil) else { return environment }
        defer { PQconninfoFree(parsed) }
        var option = parsed
        while option.pointee.keyword != nil {
            if let variable = option.pointee.envvar, let value = option.pointee.val {
                environment[String(cString: variable)] = String(cString: value)
            }
            option += 1
        }
        return environment
    }
}
