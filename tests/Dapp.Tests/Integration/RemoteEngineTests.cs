namespace Dapp.Tests.Integration;

/// <summary>
/// An engine reached as GitLab's docker:dind is: DOCKER_HOST=tcp://…:2376 with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH
/// (client certificate, key, CA); every engine call, and the docker CLI under dimg run, go over TLS.
/// </summary>
[Collection(EngineCollection.Name)]
public class RemoteEngineTests
{
    private static string Dappfile(string setup) => $"""
        dimg: app
        from: dapp-examples/busybox:1.35
        shell:
          install: echo installed > /installed
          setup: {setup}
        """;

    [Fact]
    public async Task A_TLS_engine_builds_pulls_stages_and_runs_with_DOCKER_TLS_VERIFY_and_a_wrong_CA_is_a_clear_error()
    {
        var root = Directory.CreateTempSubdirectory("dapp-tls-engine-").FullName;
        try
        {
            var certificates = TestCertificates.Make(Path.Combine(root, "certs"));
            await using var host = await FreshEngine.StartAsync(certificates);
            await host.LoadBaseImageAsync();
            await using var test = new TestProject(Dappfile("echo one > /setup"));
            var repo = $"127.0.0.1:5000/{test.Name}";
            var pushed = await DappCli.RunAsync(test, "dimg", "bp", repo, "--with-stages");
            Assert.True(pushed.ExitCode == 0, pushed.Stderr);

            var env = new Dictionary<string, string>
            {
                ["DOCKER_HOST"] = host.TcpHost!, ["DOCKER_TLS_VERIFY"] = "1", ["DOCKER_CERT_PATH"] = certificates.Dir,
                ["DAPP_HOME"] = test.HomeDir + "-tls",
            };
            Task<CliResult> OnTls(params string[] args) => DappCli.RunAsync(test.Dir, env, [.. args, "--name", test.Name]);

            var pulled = await OnTls("dimg", "stages", "pull", repo, "--all");
            Assert.True(pulled.ExitCode == 0, pulled.Stderr);
            Assert.Equal(3, pulled.StdoutLines.Count(l => l.Contains("[PULL]")));
            test.WriteDappfile(Dappfile("echo two > /setup"));
            var built = await OnTls("dimg", "build");
            Assert.True(built.ExitCode == 0, built.Stderr);
            Assert.Equal(["setup"], built.StdoutLines.Where(l => l.EndsWith("[BUILD]")).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));
            var run = await DappCli.RunAsync(test.Dir, env, "dimg", "run", "--name", test.Name, "--rm", "--network=none", "--", "cat", "/installed", "/setup");
            Assert.True(run.ExitCode == 0, run.Stderr);
            Assert.Equal("installed\ntwo", run.Stdout.Trim());
            Assert.Contains(test.Name, (await DockerCli.RunAsync("-H", host.Host, "images", "--format", "{{.Repository}}")).Stdout);

            // An authority that did not sign the engine's certificate (the client certificate is right).
            var wrong = TestCertificates.Make(Path.Combine(root, "wrong"));
            File.Copy(Path.Combine(certificates.Dir, "cert.pem"), Path.Combine(wrong.Dir, "cert.pem"), overwrite: true);
            File.Copy(Path.Combine(certificates.Dir, "key.pem"), Path.Combine(wrong.Dir, "key.pem"), overwrite: true);
            env["DOCKER_CERT_PATH"] = wrong.Dir;
            var refused = await OnTls("dimg", "build");
            Assert.True(refused.ExitCode == 1, refused.Stderr);
            Assert.Contains($"Cannot talk to the Docker engine at {host.TcpHost}", refused.Stderr);
            Assert.Contains("TLS handshake failed", refused.Stderr);
            Assert.Contains("DOCKER_CERT_PATH/ca.pem", refused.Stderr);
            Assert.DoesNotContain("   at ", refused.Stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
