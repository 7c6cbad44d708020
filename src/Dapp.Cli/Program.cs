using System.CommandLine;
using Dapp.Cli;

if (args.Length >= 2 && args[0] == "dimg" && args[1] == "run" && !args.Contains("--help") && !args.Contains("-h"))
    return await RunCommandLine.InvokeAsync(args[2..]);

var root = DappCommandLine.Create();
var invocation = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(12) };
var parsed = root.Parse(args);
// A mistake in the command line is one line naming it (and where to look), not the whole help under it.
if (parsed.Action is System.CommandLine.Invocation.ParseErrorAction errors) errors.ShowHelp = false;
var status = await parsed.InvokeAsync(invocation);
if (parsed.Errors.Count > 0)
{
    var path = new List<string>();
    for (var result = parsed.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult) path.Insert(0, result.Command.Name);
    path[0] = "dapp";
    Console.Error.WriteLine($"See '{string.Join(' ', path)} --help'.");
}
return status;
