/// A parser stage's view of the CSV and JSON parsers: bytes in, batches out through the
/// `emit` closure each was made with.
package protocol RecordParser: AnyObject {
    func feed(_ chunk: [UInt8]) throws
    func finish() throws
}

extension CSVRecordParser: RecordParser {}
extension JSONRecordParser: RecordParser {}
