using Microsoft.Extensions.Options;

namespace MeshActors.Hosting;

/// <summary>Checks the node's options when the host starts, so that a bad setting fails the start with a message naming it.</summary>
internal sealed class MeshOptionsValidator : IValidateOptions<MeshOptions>
{
    public ValidateOptionsResult Validate(string? name, MeshOptions options)
    {
        var errors = options.ValidationErrors();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
