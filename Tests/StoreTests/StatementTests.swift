import Foundation
import Testing
@testable import Store

@Suite struct StatementTests {
    @Test func everyStorageClassRoundTrips() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.execute("CREATE TABLE v (i INTEGER, r REAL, t TEXT, b BLOB, n)")
            let text = "Grüße \u{1F600} a\u{0}b"
            try database.withConnection { connection in
                let insert = try connection.prepare("INSERT INTO v VALUES (?, ?, ?, ?, ?)")
                try insert.bind(.integer(.max), .real(-1.5), .text(text), .blob([0, 255, 7]), .null)
                try insert.run()
                #expect(connection.changes == 1)
                #expect(connection.lastInsertRowID == 1)
                try insert.bind(.integer(.min), .real(0), .text(""), .blob([]), .integer(3))
                try insert.run()
                #expect(connection.lastInsertRowID == 2)
            }
            let rows = try database.query("SELECT i, r, t, b, n FROM v ORDER BY rowid") { row in
                [row.value(0), row.value(1), row.value(2), row.value(3), row.value(4)]
            }
            #expect(rows == [
                [.integer(.max), .real(-1.5), .text(text), .blob([0, 255, 7]), .null],
                [.integer(.min), .real(0), .text(""), .blob([]), .integer(3)],
            ])
            let typed = try database.query("SELECT i, r, t, b, n FROM v WHERE rowid = 1") { row in
                (row.int64(0), row.double(1), row.string(2), row.blob(3), row.isNull(4), row.nullableInt64(4))
            }
            #expect(typed.first?.0 == .max)
            #expect(typed.first?.1 == -1.5)
            #expect(typed.first?.2 == text)
            #expect(typed.first?.3 == [0, 255, 7])
            #expect(typed.first?.4 == true)
            #expect(typed.first?.5 == nil)
        }
    }

    @Test func optionalInitializersBindNull() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let none: UInt16? = nil
            let values = try database.query("SELECT ? IS NULL, ?, ? IS NULL", SQLValue(none), SQLValue(UInt16(0x10de)),
                                            SQLValue(String?.none)) { [$0.int64(0), $0.int64(1), $0.int64(2)] }
            #expect(values == [[1, 0x10de, 1]])
        }
    }

    @Test func wrongNumberOfBindingsIsAnError() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            let error = #expect(throws: DatabaseError.self) { try database.query("SELECT ?, ?", 1) { $0.int64(0) } }
            #expect(error?.message == "1 values for 2 parameters")
        }
    }

    @Test func cachedStatementIsResetBeforeReuse() throws {
        try withTemporaryDirectory { directory in
            let database = try Database(path: databasePath(in: directory))
            try database.withConnection { connection in
                let first = try connection.cachedStatement("SELECT ? + 1")
                try first.bind(.integer(1))
                #expect(try first.step())
                let again = try connection.cachedStatement("SELECT ? + 1")
                #expect(first === again)
                // Reset and cleared: the old binding is gone, so NULL + 1 is NULL.
                #expect(try again.step())
                #expect(again.row.isNull(0))
            }
        }
    }
}
