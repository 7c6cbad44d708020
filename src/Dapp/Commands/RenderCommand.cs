using Dapp.Config;
using Dapp.Reporting;

namespace Dapp.Commands;

/// <summary><c>dapp dimg render</c>: the dappfile as its templates render it, whether or not the result parses (docs/dappfile.md).</summary>
public static class RenderCommand
{
    public static async Task<string> RunAsync(ProjectOptions options, IReporter reporter, CancellationToken ct)
    {
        var workDir = options.ResolveWorkDir();
        var (_, _, rendered) = await DappfileLoader.RenderAsync(workDir, ProjectOptions.FilesRoot(workDir), options.Environment, ct, reporter.Warning);
        return rendered;
    }
}
