import Testing
import GreyoakPostgres

@Suite struct ConnectionSettingsTests {
    @Test func flagWinsOverDatabaseURL() {
        let settings = ConnectionSettings(url: "postgresql://flag@h/db1", environment: ["DATABASE_URL": "postgresql://env@h/db2", "PGHOST": "pg"])
        #expect(settings.source == .flag)
        #expect(settings.conninfo == "postgresql://flag@h/db1")
    }

    @Test func databaseURLWinsOverPGVariables() {
        let settings = ConnectionSettings(url: nil, environment: ["DATABASE_URL": "postgresql://env@h/db2", "PGHOST": "pg"])
        #expect(settings.source == .databaseURL)
        #expect(settings.conninfo == "postgresql://env@h/db2")
    }

    @Test(arguments: [String?.none, ""])
    func pgVariablesAreLeftToLibpq(_ flag: String?) {
        let settings = ConnectionSettings(url: flag, environment: ["DATABASE_URL": "", "PGHOST": "pg", "PGUSER": "u"])
        #expect(settings.source == .libpqEnvironment)
        #expect(settings.conninfo == "")
        #expect(settings.description == "the PG* environment")
    }

    @Test(arguments: [
        ("postgresql+psycopg2://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgresql+asyncpg://u:pw@h/db", "postgresql://u:pw@h/db"),
        ("postgres://u@h/db", "postgres://u@h/db"),
        ("postgresql://u:p+w@h/db", "postgresql://u:p+w@h/db"),
        ("host=h user=u password=a+b", "host=h user=u password=a+b"),
    ] as [(String, String)])
    func sqlalchemyDriverIsDropped(_ url: String, _ conninfo: String) {
        #expect(ConnectionSettings(url: url, environment: [:]).conninfo == conninfo)
    }

    /// The description never shows the password, and shows everything else as written.
    @Test(arguments: [
        ("postgresql://greyoak:S3cr3t-Pa55@127.0.0.1:5432/greyoak", "postgresql://greyoak:***@127.0.0.1:5432/greyoak"),
        ("postgresql+psycopg2://greyoak:S3cr3t-Pa55@db/scores", "postgresql://greyoak:***@db/scores"),
        ("postgresql://greyoak@db/scores?password=S3cr3t-Pa55&sslmode=require", "postgresql://greyoak@db/scores?password=***&sslmode=require"),
        ("postgresql://db/scores?sslmode=require&password=S3cr3t-Pa55", "postgresql://db/scores?sslmode=require&password=***"),
        ("postgresql://greyoak:p%40ss%3Aw0rd@db/scores", "postgresql://greyoak:***@db/scores"),
        ("postgresql://greyoak:S3cr3t@Pa55@db/scores", "postgresql://greyoak:***@db/scores"),
        ("host=db user=greyoak password=S3cr3t-Pa55 dbname=scores", "host=db user=greyoak password=*** dbname=scores"),
        ("host=db password = 'S3cr3t Pa55' dbname=scores", "host=db password = '***' dbname=scores"),
        ("postgresql://greyoak@db/scores", "postgresql://greyoak@db/scores"),
        ("host=db user=greyoak", "host=db user=greyoak"),
    ] as [(String, String)])
    func descriptionRedactsThePassword(_ url: String, _ description: String) {
        #expect(ConnectionSettings(url: url, environment: [:]).description == description)
    }

    /// A password containing `?` (libpq reads user info up to the `@`), or following another
    /// keyword that ends in "password", is still a password.
    @Test(arguments: [
        ("postgresql://app:pa?ss@db/scores", "pa?ss"),
        ("user=password_reader password=S3cr3t dbname=scores", "S3cr3t"),
        ("host=db sslpassword=KeyPass password=S3cr3t", "S3cr3t"),
    ] as [(String, String)])
    func descriptionNeverContainsThePassword(_ url: String, _ password: String) {
        #expect(!ConnectionSettings(url: url, environment: [:]).description.contains(password))
    }

    /// Only the password is replaced, not every text equal to it (Alembic shows
    /// `postgresql://admin:***@db/admin`).
    @Test func passwordEqualToTheUserNameRedactsOnlyThePassword() {
        #expect(ConnectionSettings(url: "postgresql://admin:admin@db/admin", environment: [:]).description
            == "postgresql://admin:***@db/admin")
    }

    @Test func scrubRemovesTheURLAndPGPASSWORDPasswords() {
        let settings = ConnectionSettings(url: "postgresql://u:S3cr3t-Pa55@h/db", environment: ["PGPASSWORD": "Env-Pa55"])
        #expect(settings.scrub("auth failed for S3cr3t-Pa55 and Env-Pa55") == "auth failed for *** and ***")
        let fromEnvironment = ConnectionSettings(url: nil, environment: ["DATABASE_URL": "postgresql://u@h/db", "PGPASSWORD": "Env-Pa55"])
        #expect(fromEnvironment.scrub("x Env-Pa55 y") == "x *** y")
        #expect(fromEnvironment.description == "postgresql://u@h/db")
    }

    @Test(arguments: [
        ("postgresql://u:pw@h/db", "pw"),
        ("postgresql://u@h/db?password=pw", "pw"),
        ("postgresql://u:@h/db", ""),
        ("postgresql://u@h/db", nil),
        ("password=pw host=h", "pw"),
        ("host=h password='p w'", "p w"),
        ("host=h", nil),
    ] as [(String, String?)])
    func passwordIsFound(_ conninfo: String, _ password: String?) {
        #expect(RedactedURL.password(in: conninfo) == password)
    }

    /// libpq decides what the password is (`PQconninfoParse`); one that a later one
    /// overrides is hidden too, and so is `sslpassword`.
    @Test(arguments: [
        ("postgresql://u:First-Pa55@h/db?password=Second-Pa55", "postgresql://u:***@h/db?password=***"),
        ("host=h password=First-Pa55 password=Second-Pa55", "host=h password=*** password=***"),
        ("host=h sslpassword=Key-Pa55 user=u", "host=h sslpassword=*** user=u"),
        ("host=h password='it\\'s' user=u", "host=h password='***' user=u"),
    ] as [(String, String)])
    func everyPasswordLibpqCouldReadIsHidden(_ conninfo: String, _ description: String) {
        #expect(ConnectionSettings(url: conninfo, environment: [:]).description == description)
    }

    @Test func aStringLibpqCannotParseIsNotShown() {
        let settings = ConnectionSettings(url: "host=h password='S3cr3t-Pa55", environment: [:])
        #expect(settings.description == "(a connection string libpq cannot parse)")
    }

    /// Server and libpq messages may quote the password as written or as decoded.
    @Test func scrubRemovesBothSpellingsOfAnEncodedPassword() {
        let settings = ConnectionSettings(url: "postgresql://u:p%40ss%3Aw0rd@h/db", environment: [:])
        #expect(settings.scrub("a p%40ss%3Aw0rd b p@ss:w0rd c") == "a *** b *** c")
    }
}
