using Dapp.Registry.Names;
using Dapp.Config;

namespace Dapp.Commands;

/// <summary>Image naming (docs/image-naming.md): <c>REPO/&lt;dimg&gt;:&lt;tag&gt;</c>, or <c>REPO:&lt;tag&gt;</c> for a nameless dimg.</summary>
internal static class DimgImageNames
{
    /// <remarks>REPO as the user wrote it: <c>dimg tag app</c> names <c>app/api:TAG</c>, not <c>docker.io/library/app/api:TAG</c>.</remarks>
    public static string For(RepositoryName repo, ImageConfig dimg, string tag) =>
        dimg.Name is null ? $"{repo.Written}:{tag}" : $"{repo.Written}/{dimg.Name}:{tag}";
}
