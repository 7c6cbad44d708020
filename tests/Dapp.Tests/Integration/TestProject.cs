using Dapp.Build;
using Dapp.Commands;
using Dapp.Reporting;

namespace Dapp.Tests.Integration;

/// <summary>A throwaway project dir with a dappfile and a unique project name; its images are removed on dispose.</summary>
public sealed class TestProject : IAsyncDisposable
{
    public TestProject(string dappfile)
    {
        Dir = Directory.CreateTempSubdirectory("dapp-it-").FullName;
        Name = "it-" + Guid.NewGuid().ToString("N")[..10];
        HomeDir = Path.Combine(Dir, ".home");
        WriteDappfile(dappfile);
    }

    public string Dir { get; }
    public string Name { get; }

    /// <summary>DAPP_HOME for CLI runs of this project (locks, build dirs).</summary>
    public string HomeDir { get; }

    public void WriteDappfile(string text) => File.WriteAllText(Path.Combine(Dir, "dappfile.yml"), text);

    /// <summary>The project on an engine (default: the first one) under a project name (default: <see cref="Name"/>).</summary>
    public Task<DappProject> LoadAsync(string? dockerHost = null, string? name = null) =>
        DappProject.LoadAsync(new ProjectOptions { Dir = Dir, Name = name ?? Name, BuildDir = Path.Combine(Dir, ".build"), DockerHost = dockerHost }, default);

    /// <summary>Other (engine, project name) pairs this test used, flushed on dispose.</summary>
    public List<(string? DockerHost, string Name)> AlsoUsed { get; } = [];

    public Task<RecordingReporter> BuildAsync(params string[] patterns) => BuildOnAsync(null, null, patterns);

    public async Task<RecordingReporter> BuildOnAsync(string? dockerHost, string? name, params string[] patterns)
    {
        using var project = await LoadAsync(dockerHost, name);
        var reporter = new RecordingReporter();
        await BuildCommand.RunAsync(project, patterns, new BuildOptions(), StagesStorageOption.Local, reporter, default);
        return reporter;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (host, name) in AlsoUsed.Prepend((null, Name)).Distinct())
        {
            try
            {
                using var project = await LoadAsync(host, name);
                await CleanupCommands.FlushLocalAsync(project, withStages: true, dryRun: false, force: false, new RecordingReporter(), default);
            }
            catch (DappException)
            {
                // a test that broke its dappfile on purpose; nothing was built under it
            }
        }
        Directory.Delete(Dir, recursive: true);
    }
}
