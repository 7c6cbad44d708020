using System.CommandLine;
using Dapp.Cli;

if (args.Length >= 2 && args[0] == "dimg" && args[1] == "run" && !args.Contains("--help") && !args.Contains("-h"))
    return await RunCommandLine.InvokeAsync(args[2..]);

var root = DappCommandLine.Create();
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(12) };
return await root.Parse(args).InvokeAsync(invocation);
