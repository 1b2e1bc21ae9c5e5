"""The initiative's pages: intake and edit form, the private need page (one blueprint)."""
