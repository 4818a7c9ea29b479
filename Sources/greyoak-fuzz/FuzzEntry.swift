import Foundation
import GreyoakMigrations
import GreyoakFuzzing

// One executable for every fuzz target (see `FuzzTarget`), in two builds:
//
// - `scripts/fuzz` builds it with `-sanitize=fuzzer,address -parse-as-library -DFUZZING`:
//   libFuzzer supplies `main` and calls `LLVMFuzzerTestOneInput`, which runs the target
//   named by `GREYOAK_FUZZ_TARGET`. One binary, built once, instead of ten: the sanitized
//   release build of the libraries is most of the time CI spends on fuzzing.
// - A plain `swift build` compiles the `@main` below instead: a replayer,
//   `greyoak-fuzz TARGET FILE...`, that runs inputs through a target without a sanitizer
//   (what a crash file looks like to the code, in a debugger).

#if FUZZING
/// The target, chosen once per process.
let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["GREYOAK_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("greyoak-fuzz: set GREYOAK_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selectedTarget.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// libFuzzer's driver, for a `main` of our own (SwiftPM links an executable's entry point
/// under its own name, so libFuzzer's `main` is not the one that runs).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>,
                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
enum FuzzMain {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}
#else
@main
enum Replay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            FileHandle.standardError.write(Data("usage: greyoak-fuzz \(names) FILE...\n".utf8))
            exit(2)
        }
        for path in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("greyoak-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            data.withUnsafeBytes { target.run($0) }
            print("\(path): ok")
        }
    }
}
#endif
