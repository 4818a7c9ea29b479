import Foundation
import Testing
import GreyoakPostgres
import GreyoakTestSupport

/// The connection options greyoak sets unless the user's URL does.
@Suite("Connection options: keepalives on by default, the URL wins")
struct DBConnectionOptionTests {
    @Test("keepalives are on with greyoak's timings by default")
    func defaults() throws {
        let connection = try Connection(ConnectionSettings(url: try TestDatabase.requireAdminURL(), environment: [:]), logger: quietLogger)
        #expect(connection.option("keepalives") == "1")
        #expect(connection.option("keepalives_idle") == "30")
        #expect(connection.option("keepalives_interval") == "10")
        #expect(connection.option("keepalives_count") == "3")
    }

    @Test("keepalive parameters in the URL win")
    func urlWins() throws {
        let admin = try TestDatabase.requireAdminURL()
        let url = admin + (admin.contains("?") ? "&" : "?") + "keepalives_idle=7&keepalives_count=9"
        let connection = try Connection(ConnectionSettings(url: url, environment: [:]), logger: quietLogger)
        #expect(connection.option("keepalives_idle") == "7")
        #expect(connection.option("keepalives_count") == "9")
        #expect(connection.option("keepalives_interval") == "10")
    }
}
