namespace Dapp.Tests.Integration;

/// <summary>Projects that several test classes build.</summary>
public static class SharedDappfiles
{
    /// <summary>
    /// An artifact (builder) imported by api after install, and web: three chains on one base. The marker makes the
    /// stages of each test its own; setup changes only api's setup and docker_instructions.
    /// </summary>
    public static string ApiWebAndBuilder(string marker, string setup = "setup-1") => $"""
        artifact: builder
        from: dapp-examples/busybox:1.35
        shell:
          install: mkdir -p /out && echo tool-{marker} > /out/tool
        ---
        dimg: api
        from: dapp-examples/busybox:1.35
        import:
        - {"{"}artifact: builder, add: /out, to: /opt/tools, after: install{"}"}
        shell:
          beforeInstall: echo {marker} > /marker
          install: mkdir -p /app && echo api > /app/name
          setup: echo {setup} > /app/setup
        docker:
          CMD: [cat, /app/setup]
        ---
        dimg: web
        from: dapp-examples/busybox:1.35
        shell:
          install: echo web-{marker} > /web
        """;
}
