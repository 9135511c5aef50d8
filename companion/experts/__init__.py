"""Expert talks: the expert invited to a talk slot, their material, and the agenda people see."""
