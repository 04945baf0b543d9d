import App
import Foundation

// `vfiod serve | migrate | --help | --version`: everything lives in the App target.
exit(await VFIODMain.run(Array(CommandLine.arguments.dropFirst())))
