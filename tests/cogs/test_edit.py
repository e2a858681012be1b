"""/edit and the "Edit image" message command reach the API with the image as input_image."""

from __future__ import annotations

from tests.cogs.conftest import Stack, png_bytes, text


async def test_edit_with_attachment_sends_it_as_the_image_field(stack: Stack) -> None:
    """The uploaded attachment's URL becomes the kontext model's input_image."""
    fake = stack.discord
    interaction = await fake.slash(
        "edit",
        prompt="add a hat",
        user=fake.users.member,
        attachments={"image": ("cat.png", png_bytes(), "image/png")},
    )
    await interaction.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    create = stack.api.requests_for("create")[0]
    assert create.path.endswith("/models/black-forest-labs/flux-kontext-pro/predictions")
    assert create.json["input"]["input_image"].startswith("http")
    assert "cat.png" in create.json["input"]["input_image"]
    assert job.kind == "edit" and len(interaction.original_message.attachments) == 1


async def test_edit_refuses_a_file_that_is_not_an_image(stack: Stack) -> None:
    """A text file as the image gets a clear ephemeral refusal, logged, and no API call."""
    fake = stack.discord
    interaction = await fake.slash(
        "edit",
        prompt="add a hat",
        user=fake.users.member,
        attachments={"image": ("notes.txt", b"hello", "text/plain")},
    )
    await interaction.wait_callback()
    reply = interaction.original_message
    assert reply.ephemeral and reply.content == text(stack, "refusal.attachment_not_image")
    assert stack.api.requests_for("create") == []
    row = await stack.services.db.fetchone("SELECT status, refusal_reason FROM jobs")
    assert row == {"status": "refused", "refusal_reason": "validation"}


async def test_context_menu_asks_for_a_prompt_and_edits_the_message_image(stack: Stack) -> None:
    """ "Edit image" on a user's picture opens a form; submitting it edits that picture."""
    fake = stack.discord
    posted = await fake.post_user_message(
        user=fake.users.other_member, attachments=[("dog.png", png_bytes(), "image/png")]
    )
    menu = await fake.context_menu("Edit image", posted, user=fake.users.member)
    await menu.wait_callback()
    assert menu.modal is not None
    submit = await fake.submit_modal(
        menu.modal["custom_id"], {"prompt": "make it a painting"}, user=fake.users.member
    )
    await submit.wait_callback()
    job = await stack.wait_job(1, "succeeded")
    assert job.input["prompt"] == "make it a painting"
    assert "dog.png" in job.input["input_image"]
    assert len(submit.original_message.attachments) == 1


async def test_context_menu_on_a_message_without_image_is_refused(stack: Stack) -> None:
    """A message with no image gets an ephemeral sentence, not a form."""
    fake = stack.discord
    posted = await fake.post_user_message(user=fake.users.other_member, content="just words")
    menu = await fake.context_menu("Edit image", posted, user=fake.users.member)
    await menu.wait_callback()
    assert menu.modal is None
    assert menu.original_message.content == text(stack, "refusal.no_image_in_message")
